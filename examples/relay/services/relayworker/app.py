"""The worker's HTTP API: ``POST /api/job``, ``GET /health``, ``GET /metrics``.

``POST /api/job {"key": str}`` counts the key in the dependency (Redis ``INCR``) and answers
``{"key", "count", "fallback": false}``. When the call fails, times out or the breaker is open, the
fallback answers 200 ``{"key", "count": null, "fallback": true}`` with ``X-Fallback: <dependency>``: the
job is not counted, the caller is not failed (rules 3.4, 10.3). ``/health`` never touches the dependency.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .breaker import WatchedBreaker
from .metrics import WorkerMetrics
from .settings import Settings

ROUTES = ("/api/job", "/health", "/metrics")
log = logging.getLogger("relayworker")


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.breaker = WatchedBreaker(
            settings.dependency,
            settings.failure_threshold,
            settings.recovery_timeout_s,
            settings.breaker_enabled,
        )
        self.metrics = WorkerMetrics(self.breaker)
        timeout = settings.timeout_s
        self.store = redis.Redis.from_url(
            settings.dependency_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    async def count(self, key: str) -> int | None:
        """The key's new count, or None when the fallback answered (the reason is logged)."""
        dep, admission = self.settings.dependency, self.breaker.admit()
        if admission is None:
            self.metrics.calls["short_circuited"].inc()
            return None
        started = time.monotonic()
        try:
            count = int(await asyncio.wait_for(self.store.incr(f"relay:{key}"), self.settings.timeout_s))
        except Exception as exc:  # any failure of the dependency is the fallback's, and the breaker's
            self.metrics.call_duration.observe(time.monotonic() - started)
            self.metrics.calls["failure"].inc()
            self.breaker.failed(admission, exc)
            log.warning("fallback", extra={"fields": {"dependency": dep, "error": repr(exc)}})
            return None
        self.metrics.call_duration.observe(time.monotonic() - started)
        self.metrics.calls["success"].inc()
        self.breaker.succeeded(admission)
        return count

    async def job(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            key = str(body["key"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'expected {"key": "..."}'}, status=400)
        count = await self.count(key)
        self.metrics.completed.inc()
        if count is None:
            self.metrics.fallbacks.inc()
            headers = {"X-Fallback": self.settings.dependency}
            return web.json_response({"key": key, "count": None, "fallback": True}, headers=headers)
        return web.json_response({"key": key, "count": count, "fallback": False})

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok", "service": self.settings.service, "breaker": self.breaker.state}
        )

    async def scrape(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    @web.middleware
    async def measure(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path if request.path in ROUTES else "other"
        started, status = time.monotonic(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Exception:
            self.metrics.failed.inc()
            raise
        finally:
            elapsed = time.monotonic() - started
            self.metrics.requests.labels(request.method, path, str(status)).inc()
            self.metrics.duration.labels(request.method, path).observe(elapsed)
            if path == "/api/job":
                fields = {"path": path, "status": status, "duration_ms": round(elapsed * 1000, 1)}
                log.info("request", extra={"fields": fields})

    async def close(self, _: web.Application) -> None:
        await self.store.close()

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self.measure])
        app.add_routes(
            [
                web.post("/api/job", self.job),
                web.get("/health", self.health),
                web.get("/metrics", self.scrape),
            ]
        )
        app.on_cleanup.append(self.close)
        return app


def logging_setup(service: str) -> None:
    """One JSON object per line on stdout (rule 7.2)."""

    class JsonLines(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            line = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
                "level": record.levelname,
                "service": service,
                "message": record.getMessage(),
                **getattr(record, "fields", {}),
            }
            return json.dumps(line)

    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
