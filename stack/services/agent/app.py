"""The agent: aiohttp routes, the task pipeline over its dependencies, and the
background work (state saves, hibernation, publish-buffer drain, queue consumer).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiormq.abc
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from refstack_common.jsonlog import fields

from . import tracing
from .breaker import CircuitBreaker, State
from .config import Config
from .deps import CALLER_HEADER, HttpClients, Ollama, PeerAgent, PostgresStore, RedisCache, amqp_url
from .guard import DependencyError, Guard, bounded
from .hibernation import Hibernation
from .metrics import LiveCollector, Metrics
from .modelpool import ModelPool, ModelTooLarge
from .queue import MESSAGE_TTL_MS, Consumer, Publisher, Topology
from .queuemetrics import QueueMetrics, priority_class, published_at
from .retry import Backoff, Observe, RetryPolicy, retry_async
from .state import AgentState, BufferedTask, StateCorrupt, load_state, save_state, state_path

log = logging.getLogger("agent")

ASYNC_ACK_TIMEOUT_S = 0.5  # the publish attempt of /api/task/async, so the ack stays < 1 s (rule 8.1)
BUFFER_MAX = 1000  # local publish buffer while RabbitMQ is unavailable
SHUTDOWN_GRACE_S = 5.0  # in-flight requests get this long after SIGTERM (docker stop waits 10 s)
MAX_INPUT_CHARS = 65536
POISON_PREFIX = "poison:"
"""A queued task whose input starts with this is one the consumer cannot process: it rejects it without
requeue, so the queue dead-letters it (the load marks a few, rule 3.3)."""
DEGRADED = "degraded"
MEMORY_ENTRY_CHARS = 200
"""Of an input and of its answer, what an agent's memory keeps."""
_MODEL_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class BadRequest(Exception):
    pass


class Unavailable(Exception):
    """A dependency failed and fallbacks are disabled (FALLBACK_ENABLED=false)."""

    def __init__(self, error: DependencyError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclasses.dataclass(frozen=True, slots=True)
class TaskInput:
    text: str
    model: str | None
    priority: int
    ttl_ms: int | None = None
    """An asynchronous task's time to live in the queue (its message's `expiration`), below the queue's."""


@dataclasses.dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    result: str
    fallbacks: tuple[str, ...]
    peers: tuple[tuple[str, str], ...]
    cached: bool


class Agent:
    def __init__(self, cfg: Config, registry: CollectorRegistry | None = None) -> None:
        self.cfg = cfg
        self.metrics = Metrics(registry or CollectorRegistry())
        self.policy = RetryPolicy(
            cfg.retry_max_retries, cfg.retry_initial_delay_s, cfg.retry_multiplier, cfg.retry_cooldown_s
        )
        self.hibernation = Hibernation(cfg.idle_timeout_s)
        self.pool = ModelPool(
            limit_bytes=cfg.model_pool_bytes,
            model_size_bytes=cfg.model_size_bytes,
            evict=cfg.model_pool_evict,
        )
        self.breakers: dict[str, CircuitBreaker] = {}
        self.state_file = state_path(cfg.state_dir, cfg.agent_name)
        self.started_at = time.time()
        self.draining = False
        self.inflight = 0
        self.buffer: collections.deque[BufferedTask] = collections.deque()
        self._buffer_ready = asyncio.Event()
        self._wake_lock = asyncio.Lock()
        self._semaphore = asyncio.Semaphore(cfg.max_concurrent) if cfg.max_concurrent > 0 else None
        self._tasks: list[asyncio.Task[None]] = []
        self._starts = 1
        self._completed_base = 0
        self._failed_base = 0
        self._completed = 0
        self._failed = 0

        t = cfg.timeout
        redis = RedisCache(cfg.redis_url, t) if cfg.redis_url else None
        self.redis = (redis, self._guard("redis", redis.reset)) if redis else None
        if self.redis is not None:
            self.metrics.declare_cache()
        postgres = (
            PostgresStore(cfg.postgres_dsn, cfg.postgres_password_file, t) if cfg.postgres_dsn else None
        )
        self.postgres = (postgres, self._guard("postgres", postgres.reset)) if postgres else None
        self.http = HttpClients(t, cfg.trace_propagation) if (cfg.ollama_url or cfg.peers) else None
        self.ollama: tuple[Ollama, Guard] | None = None
        self.peers: list[tuple[PeerAgent, Guard]] = []
        if self.http is not None:
            if cfg.ollama_url:
                ollama = Ollama(self.http, cfg.ollama_url, cfg.ollama_model, cfg.ollama_num_predict)
                self.ollama = (ollama, self._guard("ollama", None))
            self.peers = [
                (PeerAgent(self.http, p, cfg.agent_name), self._guard(p.name, None)) for p in cfg.peers
            ]
        topology = Topology(priority=cfg.queue_priority, dead_letter=cfg.queue_dead_letter)
        self.queue_metrics = QueueMetrics(self.metrics.registry)
        publisher = Publisher(self._amqp_url, topology) if cfg.amqp_url else None
        self.rabbitmq = (publisher, self._guard("rabbitmq", publisher.reset)) if publisher else None
        self.consumer = (
            Consumer(self._amqp_url, self._consume, self.policy, cfg.timeout, self._retried("queue_consumer"))
            if cfg.amqp_url and cfg.queue_consume
            else None
        )
        for name, _, _ in self._connectors():
            self.metrics.declare_retries(f"connect_{name}")
        self.metrics.declare_retries("state_save")
        if self.rabbitmq is not None:
            self.metrics.declare_retries("buffer_drain")
            self.queue_metrics.declare_publisher()
        if self.consumer is not None:
            self.consumer.topology = topology
            self.queue_metrics.declare_consumer()

        self.metrics.registry.register(
            LiveCollector(
                lambda: [b.snapshot() for b in self.breakers.values()], self.pool.stats, self.hibernation
            )
        )
        self.metrics.concurrency_limit.set(cfg.max_concurrent)

    def _guard(self, name: str, on_failure: Callable[[], None] | None) -> Guard:
        breaker = CircuitBreaker(
            name,
            failure_threshold=self.cfg.breaker_failure_threshold,
            reset_timeout_s=self.cfg.breaker_reset_timeout_s,
            enabled=self.cfg.breaker_enabled,
        )
        self.breakers[name] = breaker
        self.metrics.declare_dependency(name)
        return Guard(name, breaker, self.cfg.timeout, self.metrics, on_failure)

    def _retried(self, operation: str) -> Observe:
        """What times the retries of a background operation (rule 10.2)."""
        return lambda retry, seconds: self.metrics.observe_retry(operation, retry, seconds)

    def _amqp_url(self) -> str:
        return amqp_url(self.cfg.amqp_url, self.cfg.rabbitmq_password_file, self.cfg.timeout)

    # ---------------------------------------------------------------- HTTP app

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._observe, self._gate], client_max_size=2 * MAX_INPUT_CHARS)
        app.router.add_get("/health", self.health)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_post("/api/task", self.api_task)
        app.router.add_post("/api/task/async", self.api_task_async)
        for method, path in (
            ("GET", "/health"),
            ("GET", "/metrics"),
            ("POST", "/api/task"),
            ("POST", "/api/task/async"),
        ):
            self.metrics.declare_route(method, path)
        return app

    @web.middleware
    async def _observe(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Trace context, request metrics and the JSON access log for every request."""
        ctx = tracing.TraceContext.from_headers(request.headers)
        token = tracing.CURRENT.set(ctx)
        started = time.monotonic()
        route = request.match_info.route.resource
        path = route.canonical if route is not None else "other"
        status = 500
        try:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = exc
            except asyncio.CancelledError:
                status = 499  # the client went away (nginx's code); not a server error
                raise
            except Exception:
                log.exception("unhandled error")
                response = _error(500, "internal error")
            status = response.status
            response.headers.update(ctx.headers())
            if path.startswith("/api/"):  # named only where the log below has the request (INFO), not /health
                response.headers[tracing.SERVICE_HEADER] = self.cfg.agent_name
            return response
        finally:
            elapsed = time.monotonic() - started
            self.metrics.http_requests.labels(request.method, path, str(status)).inc()
            self.metrics.http_duration.labels(request.method, path).observe(elapsed)
            level = logging.INFO if path.startswith("/api/") or status >= 500 else logging.DEBUG
            log.log(
                level,
                "request",
                extra=fields(
                    method=request.method,
                    path=request.path,
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                ),
            )
            tracing.CURRENT.reset(token)

    @web.middleware
    async def _gate(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """/api/*: refuse while draining, wake from hibernation, then the concurrency semaphore (rule 8.2)."""
        if not request.path.startswith("/api/"):
            return await handler(request)
        if self.draining:
            return _error(503, "shutting down")
        self.hibernation.touch()
        await self.wake()
        async with self._slot():
            self.hibernation.touch()
            return await handler(request)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._semaphore is not None:
            self.metrics.waiting.inc()
            try:
                await self._semaphore.acquire()
            finally:
                self.metrics.waiting.dec()
        self.inflight += 1
        self.metrics.inflight.inc()
        try:
            yield
        finally:
            self.inflight -= 1
            self.metrics.inflight.dec()
            if self._semaphore is not None:
                self._semaphore.release()

    async def health(self, request: web.Request) -> web.Response:
        if self.cfg.health_delay_s:
            await asyncio.sleep(self.cfg.health_delay_s)
        states = {name: b.state.label for name, b in self.breakers.items()}
        degraded = any(state != State.CLOSED.label for state in states.values()) or bool(self.buffer)
        return web.json_response(
            {
                "status": "degraded" if degraded else "ok",
                "service": self.cfg.agent_name,
                "hibernating": self.hibernation.hibernating,
                "breakers": states,
                "inflight": self.inflight,
                "buffered": len(self.buffer),
                "uptime_s": round(time.time() - self.started_at, 3),
            }
        )

    async def metrics_page(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def api_task(self, request: web.Request) -> web.Response:
        ctx = tracing.current()
        trace_id = ctx.trace_id if ctx else ""
        try:
            task = await _read_task(request)
            caller = request.headers.get(CALLER_HEADER, "")
            # one level of peer calls: peers' PEERS can never form a loop
            result = await self.run_task(uuid.uuid4().hex, task, source=caller or "api", ask_peers=not caller)
        except BadRequest as exc:
            return _error(400, str(exc), trace_id=trace_id)
        except Unavailable as exc:
            self._count(ok=False)
            return _error(503, str(exc), trace_id=trace_id, dependency=exc.error.dependency)
        except Exception:
            self._count(ok=False)
            raise
        self._count(ok=True)
        response = web.json_response(
            {
                "task_id": result.task_id,
                "service": self.cfg.agent_name,
                "result": result.result,
                "fallbacks": list(result.fallbacks),
                "peers": dict(result.peers),
                "cached": result.cached,
                "trace_id": trace_id,
            }
        )
        if result.fallbacks:
            response.headers["X-Fallback"] = ",".join(result.fallbacks)
        return response

    async def api_task_async(self, request: web.Request) -> web.Response:
        ctx = tracing.current()
        trace_id = ctx.trace_id if ctx else ""
        try:
            task = await _read_task(request)
        except BadRequest as exc:
            return _error(400, str(exc), trace_id=trace_id)
        if self.rabbitmq is None:
            return _error(503, "asynchronous tasks need AMQP_URL", trace_id=trace_id)
        task_id = uuid.uuid4().hex
        item = BufferedTask(
            task_id=task_id,
            body=json.dumps(
                {
                    "task_id": task_id,
                    "input": task.text,
                    "model": task.model,
                    "priority": task.priority,
                    "source": self.cfg.agent_name,
                    "submitted_at": time.time(),
                }
                | ({"ttl_ms": task.ttl_ms} if task.ttl_ms else {})
            ),
            priority=task.priority,
            headers=tuple(tracing.outgoing_headers(self.cfg.trace_propagation).items()),
        )
        try:
            await self._publish(item, timeout=ASYNC_ACK_TIMEOUT_S)
        except DependencyError as exc:
            if not self.cfg.fallback_enabled:
                return _error(503, str(exc), trace_id=trace_id, dependency="rabbitmq")
            if len(self.buffer) >= BUFFER_MAX:
                return _error(503, "rabbitmq unavailable and the local buffer is full", trace_id=trace_id)
            self.buffer.append(item)
            self._buffer_ready.set()
            self.metrics.fallbacks.labels("rabbitmq").inc()
            log.warning(
                "task buffered locally",
                extra=fields(task_id=task_id, reason=str(exc), buffered=len(self.buffer)),
            )
            response = web.json_response(
                {"task_id": task_id, "buffered": True, "trace_id": trace_id}, status=202
            )
            response.headers["X-Fallback"] = "rabbitmq"
            return response
        return web.json_response({"task_id": task_id, "buffered": False, "trace_id": trace_id}, status=202)

    def _count(self, *, ok: bool) -> None:
        if ok:
            self._completed += 1
            self.metrics.tasks_completed.inc()
        else:
            self._failed += 1
            self.metrics.tasks_failed.inc()

    # ---------------------------------------------------------------- the task pipeline

    async def run_task(self, task_id: str, task: TaskInput, *, source: str, ask_peers: bool) -> TaskResult:
        """Redis cache -> Ollama on a miss -> cache write -> Postgres row, and meanwhile each peer's
        /api/task (they need nothing of ours), so one slow dependency costs one timeout.  Each step
        only when configured.

        One attempt per dependency; a failure or an open breaker is served by that
        dependency's fallback, or raises Unavailable when fallbacks are disabled.
        """
        fallbacks: list[str] = []
        if self.cfg.task_delay_s:
            await asyncio.sleep(self.cfg.task_delay_s)

        def degrade(error: DependencyError) -> None:
            if not self.cfg.fallback_enabled:
                raise Unavailable(error)
            fallbacks.append(error.dependency)
            self.metrics.fallbacks.labels(error.dependency).inc()
            log.warning(
                "fallback", extra=fields(dependency=error.dependency, reason=error.reason, task_id=task_id)
            )

        if task.model is not None:
            try:
                lookup = self.pool.get(task.model)
            except ModelTooLarge as exc:
                raise BadRequest(str(exc)) from exc
            if lookup.loaded:
                log.info("model loaded", extra=fields(model=task.model, evicted=list(lookup.evicted)))

        async def local() -> tuple[str, bool]:
            """The agent's own work; returns (result, served from cache)."""
            started = time.monotonic()
            key = (
                "agent:"
                + hashlib.sha256(f"{self.cfg.ollama_model}\0{task.model}\0{task.text}".encode()).hexdigest()
            )
            cached: str | None = None
            cache_usable = self.redis is not None and self.cfg.cache_enabled
            lookup = "disabled"  # CACHE_ENABLED=false: never looked up, never written (mutant no-cache)
            failed: DependencyError | None = None

            async def look_up() -> None:
                nonlocal cached, cache_usable, lookup, failed
                if self.redis is None or not cache_usable:
                    return
                redis, redis_guard = self.redis
                try:
                    cached = await redis_guard.call(lambda: redis.get(key))
                    lookup = "miss" if cached is None else "hit"
                except DependencyError as exc:
                    cache_usable, lookup, failed = False, "error", exc

            # The memory is read while the cache is looked up: one wait, not two, when Redis is slow. Only a
            # miss uses it; on a hit its read ends unused (not cancelled: a command cancelled mid-reply can
            # leave the connection out of step).
            memory = self._memory()
            recalled = asyncio.ensure_future(self._recall(memory)) if memory else None
            try:
                await look_up()
                if self.redis is not None:
                    self.metrics.cache_requests.labels(lookup).inc()
                if failed is not None:  # after counting: with fallbacks off it raises, failing the task
                    degrade(failed)
                if cached is not None:
                    text = cached
                elif self.ollama is None:
                    text = f"{self.cfg.agent_name} processed {len(task.text)} chars"
                else:
                    context: list[str] = []
                    if recalled is not None:
                        try:
                            context = await recalled
                        except DependencyError as exc:
                            degrade(exc)
                    prompt = "\n".join([*reversed(context), task.text])
                    ollama, ollama_guard = self.ollama
                    try:
                        text = await ollama_guard.call(lambda: ollama.generate(prompt))
                    except DependencyError as exc:
                        degrade(exc)
                        text = DEGRADED
            finally:
                if recalled is not None:
                    recalled.add_done_callback(_unused)
            if self.redis is not None and cache_usable and cached is None and text != DEGRADED:
                redis, redis_guard = self.redis
                try:
                    await redis_guard.call(lambda: redis.set(key, text))
                except DependencyError as exc:
                    degrade(exc)
            if memory and cached is None and text != DEGRADED:
                try:
                    await self._remember(
                        memory, f"{task.text[:MEMORY_ENTRY_CHARS]} -> {text[:MEMORY_ENTRY_CHARS]}"
                    )
                except DependencyError as exc:
                    degrade(exc)
            if self.postgres is not None:
                try:
                    await self._store(task_id, source, task.text, result=text)
                except DependencyError as exc:
                    degrade(exc)
            if self.redis is not None:  # answers only: a task that raised was never served
                self.metrics.cache_task_duration.labels(lookup).observe(time.monotonic() - started)
            return text, cached is not None

        async def ask(peer: PeerAgent, guard: Guard) -> tuple[str, str]:
            try:
                return peer.name, await guard.call(lambda: peer.task(task.text))
            except DependencyError as exc:
                degrade(exc)
                return peer.name, DEGRADED

        refused: BaseException | None = None
        try:
            async with asyncio.TaskGroup() as group:
                mine = group.create_task(local())
                asked = [group.create_task(ask(p, g)) for p, g in (self.peers if ask_peers else [])]
        except* Unavailable as failed:  # fallbacks disabled: the first failure answers, the rest is cancelled
            refused = failed.exceptions[0]
        if refused is not None:
            raise refused
        text, from_cache = mine.result()
        peers = tuple(a.result() for a in asked)
        return TaskResult(task_id, text, tuple(dict.fromkeys(fallbacks)), peers, from_cache)

    def _memory(self) -> str | None:
        """The Redis key of the agent's memory of recent exchanges; None without one (no Redis, no model,
        MEMORY_TURNS=0)."""
        if self.redis is None or self.ollama is None or self.cfg.memory_turns <= 0:
            return None
        return f"agent:memory:{self.cfg.agent_name}"

    async def _recall(self, memory: str) -> list[str]:
        """The newest exchanges, newest first, through the Redis breaker; raises DependencyError."""
        assert self.redis is not None
        redis, guard = self.redis
        return await guard.call(lambda: redis.recent(memory, self.cfg.memory_turns))

    async def _remember(self, memory: str, entry: str) -> None:
        assert self.redis is not None
        redis, guard = self.redis
        await guard.call(lambda: redis.remember(memory, entry, self.cfg.memory_turns))

    async def _store(self, task_id: str, source: str, text: str, *, result: str) -> None:
        """One task row in Postgres, through its breaker; raises DependencyError."""
        assert self.postgres is not None
        postgres, guard = self.postgres
        await guard.call(
            lambda: postgres.insert(
                task_id=task_id, service=self.cfg.agent_name, source=source, text=text, result=result
            )
        )

    async def _publish(self, item: BufferedTask, *, timeout: float | None = None) -> None:
        assert self.rabbitmq is not None
        publisher, guard = self.rabbitmq
        await guard.call(
            lambda: publisher.publish(
                body=item.body.encode(),
                priority=item.priority,
                message_id=item.task_id,
                headers=dict(item.headers),
                expiration_ms=_ttl_ms(item.body),
            ),
            timeout=timeout,
        )
        self.queue_metrics.published.labels(priority_class(item.priority)).inc()

    async def _consume(self, message: aiormq.abc.DeliveredMessage) -> bool:
        """One queued task: store it (Postgres when configured). False = dead-letter it."""
        if message.channel.is_closed:  # delivered before the connection was lost: it comes back redelivered
            return False
        headers = {str(k): str(v) for k, v in (message.header.properties.headers or {}).items()}
        # before any await: the order of these calls is the broker's order of delivery
        klass = self.queue_metrics.delivered(
            message.header.properties.priority, published_at(headers), time.time()
        )
        token = tracing.CURRENT.set(tracing.TraceContext.from_headers(headers))
        try:
            self.hibernation.touch()
            await self.wake()
            try:
                raw = json.loads(message.body)
                task_id = str(raw["task_id"])
                text = str(raw["input"])
                source = str(raw.get("source", "queue"))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("malformed queued task dead-lettered", extra=fields(error=str(exc)))
                self._count(ok=False)
                _settled(message, self.queue_metrics.rejected.labels("malformed"))
                return False
            if text.startswith(POISON_PREFIX):  # the sender's error, as a 400 is: not a failed task
                log.warning("poison task dead-lettered", extra=fields(task_id=task_id))
                _settled(message, self.queue_metrics.rejected.labels("poison"))
                return False
            if self.postgres is not None:
                try:
                    await self._store(task_id, source, text, result=f"indexed {len(text)} chars")
                except DependencyError as exc:
                    log.warning(
                        "queued task failed, dead-lettered", extra=fields(task_id=task_id, reason=str(exc))
                    )
                    self._count(ok=False)
                    _settled(message, self.queue_metrics.rejected.labels("failed"))
                    return False
            self._count(ok=True)
            _settled(message, self.queue_metrics.consumed.labels(klass))
            log.info("queued task completed", extra=fields(task_id=task_id))
            return True
        finally:
            tracing.CURRENT.reset(token)

    # ---------------------------------------------------------------- lifecycle

    def _connectors(self) -> list[tuple[str, Callable[[], Awaitable[None]], Callable[[], None]]]:
        out: list[tuple[str, Callable[[], Awaitable[None]], Callable[[], None]]] = []
        if self.redis is not None:
            out.append(("redis", self.redis[0].ping, self.redis[0].reset))
        if self.postgres is not None:
            out.append(("postgres", self.postgres[0].ping, self.postgres[0].reset))
        if self.rabbitmq is not None:
            out.append(("rabbitmq", self.rabbitmq[0].ping, self.rabbitmq[0].reset))
        return out

    async def _connect(
        self, name: str, ping: Callable[[], Awaitable[None]], reset: Callable[[], None]
    ) -> None:
        try:
            await bounded(ping(), self.cfg.timeout)
        except Exception:
            reset()
            raise
        log.info("connected", extra=fields(dependency=name))

    async def _warm_up(self) -> None:
        """Connect to every dependency in the background with exponential backoff; never blocks serving."""

        async def one(name: str, ping: Callable[[], Awaitable[None]], reset: Callable[[], None]) -> None:
            try:
                await retry_async(
                    lambda: self._connect(name, ping, reset),
                    self.policy,
                    on_retry=lambda n, exc, wait: log.warning(
                        "connect failed, retrying",
                        extra=fields(dependency=name, retry=n, error=repr(exc), retry_in_s=wait),
                    ),
                    observe=self._retried(f"connect_{name}"),
                )
            except Exception as exc:
                log.warning(
                    "dependency not reachable yet; connecting on first use",
                    extra=fields(dependency=name, error=str(exc)),
                )

        await asyncio.gather(*(one(*c) for c in self._connectors()))

    async def wake(self) -> None:
        if not self.hibernation.hibernating:
            return
        async with self._wake_lock:
            if not self.hibernation.hibernating:
                return
            self.hibernation.wake_begin()
            outcomes = await asyncio.gather(
                *(self._connect(*c) for c in self._connectors()), return_exceptions=True
            )
            duration = self.hibernation.wake_end()
            self.metrics.wakeup.observe(duration)
            failed = [
                c[0]
                for c, o in zip(self._connectors(), outcomes, strict=True)
                if isinstance(o, BaseException)
            ]
            log.info("woke up", extra=fields(wakeup_s=round(duration, 4), unreachable=failed))

    async def hibernate(self) -> None:
        async with self._wake_lock:  # a request arriving meanwhile wakes only after the close
            self.hibernation.enter()
            # HIBERNATE_RELEASE=false: the hibernate-keeps-memory mutant holds its models
            released = self.pool.release_all() if self.cfg.hibernate_release else 0
            await self._close_clients()
        log.info(
            "hibernating",
            extra=fields(models_released=released, idle_s=round(self.hibernation.idle_for(), 1)),
        )

    async def _close_clients(self) -> None:
        closers: list[Awaitable[None]] = []
        if self.redis is not None:
            closers.append(self.redis[0].close())
        if self.postgres is not None:
            closers.append(self.postgres[0].close())
        if self.rabbitmq is not None:
            closers.append(self.rabbitmq[0].close())
        if self.http is not None:
            closers.append(self.http.close())
        for outcome in await asyncio.gather(*closers, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.debug("close: %r", outcome)

    async def _idle_loop(self) -> None:
        tick = min(1.0, max(0.05, self.cfg.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(tick)
            if self.hibernation.due(self.inflight) and not self.draining:
                await self.hibernate()

    async def _drain_loop(self) -> None:
        """Publish buffered tasks in order once RabbitMQ is back, backing off exponentially: retries after
        1, 2, 4 s, then a cool-down before a new series (rule 10.2)."""
        backoff = Backoff(self.policy, self._retried("buffer_drain"))
        while True:
            await self._buffer_ready.wait()
            while self.buffer:
                backoff.attempt()
                try:
                    await self._publish(self.buffer[0])
                except DependencyError as exc:
                    gave_up = backoff.exhausted
                    wait = backoff.failed()
                    log.info(
                        "buffer drain gave up, cooling down" if gave_up else "buffer drain waiting",
                        extra=fields(reason=str(exc), retry_in_s=wait, buffered=len(self.buffer)),
                    )
                    await asyncio.sleep(wait)
                    continue
                backoff.succeeded()
                done = self.buffer.popleft()
                log.info(
                    "buffered task published", extra=fields(task_id=done.task_id, buffered=len(self.buffer))
                )
            self._buffer_ready.clear()

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.state_save_interval_s)
            await self.save_state()

    def restore_state(self) -> None:
        if not self.cfg.state_restore:  # the state-not-restored mutant
            self.metrics.state_restored.set(0)
            log.warning("state restore disabled (STATE_RESTORE=false)")
            return
        try:
            state = load_state(self.state_file)
        except StateCorrupt as exc:
            log.error("state not restored", extra=fields(path=str(self.state_file), error=str(exc)))
            state = None
        if state is None:
            self.metrics.state_restored.set(0)
            return
        self._starts = state.starts + 1
        self._completed_base = state.tasks_completed
        self._failed_base = state.tasks_failed
        self.buffer.extend(state.buffered)
        if self.buffer:
            self._buffer_ready.set()
        self.metrics.state_restored.set(1)
        self.metrics.state_restored_saved_at.set(state.saved_at)
        log.info(
            "state restored",
            extra=fields(
                path=str(self.state_file),
                saved_at=state.saved_at,
                starts=self._starts,
                tasks_completed=state.tasks_completed,
                buffered=len(state.buffered),
            ),
        )

    def snapshot_state(self) -> AgentState:
        return AgentState(
            service=self.cfg.agent_name,
            saved_at=time.time(),
            starts=self._starts,
            tasks_completed=self._completed_base + self._completed,
            tasks_failed=self._failed_base + self._failed,
            buffered=tuple(self.buffer),
        )

    async def save_state(self) -> bool:
        state = self.snapshot_state()
        try:
            await retry_async(
                lambda: asyncio.to_thread(save_state, self.state_file, state),
                self.policy,
                retry_on=(OSError,),
                observe=self._retried("state_save"),
            )
        except Exception as exc:
            log.error("state save failed", extra=fields(path=str(self.state_file), error=str(exc)))
            return False
        self.metrics.state_saves.inc()
        log.info(
            "state saved",
            extra=fields(
                path=str(self.state_file), tasks_completed=state.tasks_completed, buffered=len(state.buffered)
            ),
        )
        return True

    def start_background(self) -> None:
        loop = asyncio.get_running_loop()
        jobs: list[Awaitable[None]] = [self._warm_up(), self._idle_loop()]
        if self.rabbitmq is not None:
            jobs.append(self._drain_loop())
        if self.consumer is not None:
            jobs.append(self.consumer.run())
        if self.cfg.state_save_interval_s > 0:
            jobs.append(self._save_loop())
        self._tasks = [loop.create_task(_logged(job)) for job in jobs]

    async def wait_idle(self, grace_s: float) -> bool:
        deadline = time.monotonic() + grace_s
        while self.inflight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.inflight == 0

    async def stop(self) -> None:
        """After the listener is closed: finish in-flight work (bounded), save, disconnect."""
        self.draining = True
        finished = await self.wait_idle(SHUTDOWN_GRACE_S)
        if not finished:
            log.warning(
                "in-flight requests cut off", extra=fields(inflight=self.inflight, grace_s=SHUTDOWN_GRACE_S)
            )
        if self.cfg.shutdown_delay_s > 0:  # the slow-shutdown mutant: still busy when the grace runs out
            log.warning("shutdown delayed", extra=fields(delay_s=self.cfg.shutdown_delay_s))
            await asyncio.sleep(self.cfg.shutdown_delay_s)
        if self.consumer is not None:
            await self.consumer.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.save_state()
        await self._close_clients()


async def _logged(job: Awaitable[None]) -> None:
    try:
        await job
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background job crashed")


async def _read_task(request: web.Request) -> TaskInput:
    try:
        raw: Any = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body must be a JSON object") from None
    if not isinstance(raw, dict):
        raise BadRequest("body must be a JSON object")
    text = raw.get("input")
    if not isinstance(text, str) or not text:
        raise BadRequest('"input" must be a non-empty string')
    if len(text) > MAX_INPUT_CHARS:
        raise BadRequest(f'"input" longer than {MAX_INPUT_CHARS} characters')
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not _MODEL_NAME.match(model)):
        raise BadRequest('"model" must be a name of letters, digits and ._:-')
    priority = raw.get("priority", 5)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 10:
        raise BadRequest('"priority" must be an integer 0-10')
    ttl_ms = raw.get("ttl_ms")
    if ttl_ms is not None and (
        not isinstance(ttl_ms, int) or isinstance(ttl_ms, bool) or not 0 < ttl_ms <= MESSAGE_TTL_MS
    ):
        raise BadRequest(f'"ttl_ms" must be an integer 1-{MESSAGE_TTL_MS} (the queue\'s own TTL)')
    return TaskInput(text, model, priority, ttl_ms)


def _unused(task: asyncio.Future[Any]) -> None:
    """A call whose result is not needed: its failure is already counted by its guard."""
    if not task.cancelled():
        task.exception()


def _settled(message: aiormq.abc.DeliveredMessage, counter: Counter) -> None:
    """Count a message acked or rejected only while its channel is open: one whose connection was lost
    meanwhile (a consumer frozen past its heartbeats) is redelivered, and counted then."""
    if not message.channel.is_closed:
        counter.inc()


def _ttl_ms(body: str) -> int | None:
    """A queued task's own time to live, from its body (a buffered task keeps it across restarts)."""
    try:
        ttl = json.loads(body).get("ttl_ms")
    except (ValueError, AttributeError):
        return None
    return ttl if isinstance(ttl, int) and ttl > 0 else None


def _error(status: int, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)
