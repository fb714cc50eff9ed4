"""The HTTP API, shaped like Ollama's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from refstack_common.jsonlog import fields

from . import burn
from .catalog import Model, normalize_name
from .config import Config
from .generate import (
    GenerateRequest,
    RequestError,
    Timings,
    chunk,
    final_fields,
    parse_request,
    prompt_tokens,
    timestamp,
    words,
)
from .metrics import Metrics
from .pool import LoadError, ModelPool
from .scheduler import QueueFull, Scheduler

VERSION = "0.5.7"
TRACE_HEADER, SPAN_HEADER = "X-Trace-ID", "X-Span-ID"
BUSY = "server busy, please try again.  maximum pending requests exceeded"
log = logging.getLogger("modelserver")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class ModelServer:
    def __init__(self, config: Config, executor: Executor) -> None:
        self.config = config
        self.executor = executor
        self.catalog: dict[str, Model] = {m.name: m for m in config.catalog}
        self.scheduler = Scheduler(config.num_parallel, config.max_queue)
        self.pool = ModelPool(config.max_loaded_models, config.keep_alive_s, self._load)
        self.metrics = Metrics(config, self.scheduler, self.pool)
        self.started = datetime.now(UTC)

    async def _load(self, model: Model) -> burn.MemoryBlock:
        # Not on the burner threads: loading must not wait behind token generation.
        block = await asyncio.get_running_loop().run_in_executor(None, burn.MemoryBlock, model.size)
        log.info("model loaded", extra=fields(model=model.name, size=model.size))
        return block

    # --- plumbing --------------------------------------------------------------------------------------
    @web.middleware
    async def observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        route = request.match_info.route.resource
        path = route.canonical if route is not None else "other"
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # client went away
            raise
        finally:
            self.metrics.requests.labels(request.method, path, str(status)).inc()
            self.metrics.duration.labels(request.method, path).observe(time.monotonic() - started)

    async def _reaper(self) -> None:
        interval = min(1.0, self.config.keep_alive_s / 4) if self.config.keep_alive_s > 0 else 1.0
        while True:
            await asyncio.sleep(max(0.05, interval))
            expired = await self.pool.expire()
            if expired:
                log.info("models unloaded after keep-alive", extra=fields(count=expired))

    async def _background(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self._reaper())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self.pool.close()

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self.observe])
        app.cleanup_ctx.append(self._background)
        app.router.add_get("/", self.root)
        app.router.add_get("/health", self.health)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/api/version", self.version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.ps)
        app.router.add_post("/api/generate", self.generate)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_post("/api/pull", self.pull)
        app.router.add_post("/api/show", self.show)
        return app

    # --- small endpoints -------------------------------------------------------------------------------
    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "service": self.config.service,
                "inflight": self.scheduler.running,
                "queued": self.scheduler.waiting,
                "loaded_models": [m.model.name for m in self.pool.loaded()],
            }
        )

    async def metrics_page(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _describe(self, model: Model) -> dict[str, object]:
        return {
            "name": model.name,
            "model": model.name,
            "size": model.size,
            "digest": model.digest,
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": model.family,
                "families": [model.family],
                "parameter_size": model.parameter_size,
                "quantization_level": "Q4_0",
            },
        }

    async def tags(self, request: web.Request) -> web.Response:
        modified = timestamp(self.started)
        models = [{**self._describe(m), "modified_at": modified} for m in self.catalog.values()]
        return web.json_response({"models": models})

    async def ps(self, request: web.Request) -> web.Response:
        now = datetime.now(UTC)
        models = []
        for item in self.pool.loaded():
            if math.isinf(item.expires_in_s):
                expires = datetime(2318, 1, 1, tzinfo=UTC)  # Ollama shows a far-future date for "forever"
            else:
                expires = now + timedelta(seconds=item.expires_in_s)
            models.append({**self._describe(item.model), "expires_at": timestamp(expires), "size_vram": 0})
        return web.json_response({"models": models})

    async def _model_from(self, request: web.Request) -> Model | web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "invalid JSON body")
        name = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return _error(400, "model is required")
        model = self.catalog.get(normalize_name(name))
        if model is None:
            return _error(404, f'model "{name}" not found, try pulling it first')
        return model

    async def pull(self, request: web.Request) -> web.Response:
        # Every catalog model is "already pulled"; unknown ones fail like an unknown manifest.
        found = await self._model_from(request)
        if isinstance(found, web.Response):
            if found.status == 404:
                return _error(500, "pull model manifest: file does not exist")
            return found
        return web.json_response({"status": "success"})

    async def show(self, request: web.Request) -> web.Response:
        found = await self._model_from(request)
        if isinstance(found, web.Response):
            return found
        described = self._describe(found)
        return web.json_response(
            {
                "modelfile": "",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": described["details"],
                "model_info": {},
            }
        )

    # --- generation ------------------------------------------------------------------------------------
    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, chat=False)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, chat=True)

    async def _answer(self, request: web.Request, chat: bool) -> web.StreamResponse:
        started = time.monotonic()
        trace_id = request.headers.get(TRACE_HEADER, "")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "invalid JSON body")
        try:
            req = parse_request(body, self.config.default_num_predict, self.config.max_num_predict, chat)
        except RequestError as exc:
            return _error(exc.status, str(exc))
        model = self.catalog.get(req.model)
        if model is None:
            return _error(404, f'model "{body["model"]}" not found, try pulling it first')
        try:
            await self.scheduler.acquire()
        except QueueFull:
            log.warning(
                "request rejected: queue full",
                extra=fields(model=model.name, queued=self.scheduler.waiting),
            )
            return _error(503, BUSY)
        try:
            self.metrics.queue_wait.observe(time.monotonic() - started)
            async with self.pool.use(model, req.keep_alive_s) as lease:
                if not req.prompt:  # Ollama: an empty prompt only loads (or, with keep_alive 0, unloads)
                    answer = chunk(model.name, req.chat, "", done=True)
                    answer["done_reason"] = "unload" if req.keep_alive_s == 0 else "load"
                    return web.json_response(answer)
                return await self._run(request, req, model, lease.load_duration_s, started, trace_id)
        except LoadError as exc:
            log.error("model load failed", extra=fields(model=model.name, error=str(exc)))
            return _error(500, str(exc))
        finally:
            self.scheduler.release()

    async def _run(
        self,
        request: web.Request,
        req: GenerateRequest,
        model: Model,
        load_s: float,
        started: float,
        trace_id: str,
    ) -> web.StreamResponse:
        # The caller's trace (rule 7.3): echoed back and logged, its span as our parent.
        echo = {TRACE_HEADER: trace_id} if trace_id else {}
        loop = asyncio.get_running_loop()
        seconds_per_token = self.config.token_cpu_ms / 1000.0
        eval_started = time.monotonic()
        stream: web.StreamResponse | None = None
        if req.stream:
            stream = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", **echo})
            await stream.prepare(request)
        pieces: list[str] = []
        for word in words(req.prompt, req.num_predict):
            if seconds_per_token > 0:
                await loop.run_in_executor(self.executor, burn.burn_cpu, seconds_per_token)
            self.metrics.tokens.inc()
            if stream is not None:
                await stream.write(json.dumps(chunk(model.name, req.chat, word)).encode() + b"\n")
            else:
                pieces.append(word)
        eval_s = time.monotonic() - eval_started
        timings = Timings(
            total_s=time.monotonic() - started,
            load_s=load_s,
            prompt_eval_count=prompt_tokens(req.prompt),
            prompt_eval_s=0.0,
            eval_count=req.num_predict,
            eval_s=eval_s,
        )
        final = chunk(model.name, req.chat, "" if stream else "".join(pieces), done=True)
        final.update(final_fields(timings, "length" if req.limited else "stop", req.chat))
        log.info(
            "chat done" if req.chat else "generate done",
            extra=fields(
                model=model.name,
                eval_count=req.num_predict,
                stream=req.stream,
                total_ms=round(timings.total_s * 1000, 1),
                load_ms=round(load_s * 1000, 1),
                eval_ms=round(eval_s * 1000, 1),
                trace_id=trace_id or None,
                parent_span_id=request.headers.get(SPAN_HEADER),
            ),
        )
        if stream is None:
            return web.json_response(final, headers=echo)
        await stream.write(json.dumps(final).encode() + b"\n")
        await stream.write_eof()
        return stream
