"""HTTP side: /metrics serves the last snapshot (never waits on Docker), /health says how fresh it is."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest

from .collector import Collector
from .config import Config

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def build_app(config: Config, collector: Collector) -> web.Application:
    process = CollectorRegistry()
    ProcessCollector(registry=process)

    async def metrics(request: web.Request) -> web.Response:
        body = collector.render(config.stale_after_s).encode() + generate_latest(process)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def health(request: web.Request) -> web.Response:
        snapshot = collector.snapshot
        age = None if snapshot is None else round(time.time() - snapshot.taken_at, 3)
        fresh = age is not None and age <= config.stale_after_s
        return web.json_response(
            {
                "status": "ok" if fresh else "degraded",
                "service": config.service,
                "docker_up": collector.docker_up,
                "snapshot_age_s": age,
                "containers": len(snapshot.samples) if snapshot else 0,
            }
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    return app
