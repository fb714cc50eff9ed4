"""Dependency clients: Redis, Postgres, Ollama and peer agents over HTTP.

The app runs every call through its guard (guard.py: breaker + timeout).
Timeouts are applied twice: `bounded()` around every call (the request path
returns after DEPENDENCY_TIMEOUT_S whatever the client does) and the clients'
own socket timeouts (so a stuck socket does not linger).  DEPENDENCY_TIMEOUT_S=0
removes both: a frozen dependency then freezes the request (the mutant).

Connections are made lazily by the first call and dropped after a failure, so
the agent starts and serves fallbacks while a dependency is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from refstack_common.jsonlog import fields

from . import tracing
from .config import Peer
from .guard import DependencyFailed

log = logging.getLogger("agent.deps")

# asyncpg and aiormq need a number where "no timeout" is meant; this one is never reached.
UNBOUNDED_S = 1e9
CLOSE_TIMEOUT_S = 2.0
OLLAMA_SERVICE = "ollama"  # the compose service Ollama runs as, whatever proxy OLLAMA_URL goes through


def close_in_background(name: str, closer: Awaitable[object]) -> None:
    """Close an old client without making anyone wait for it (bounded, errors logged at debug)."""

    async def run() -> None:
        try:
            await asyncio.wait_for(closer, CLOSE_TIMEOUT_S)
        except Exception as exc:  # a failing close of a dead connection is expected
            log.debug("closing %s: %r", name, exc)

    asyncio.get_running_loop().create_task(run())


def read_secret(path: str) -> str | None:
    """A password from a mounted secret file (rule 9.2); None when no file is configured."""
    if not path:
        return None
    return Path(path).read_text(encoding="utf-8").strip()


class RedisCache:
    """Shared cache (rule 8.3)."""

    TTL_S = 300

    def __init__(self, url: str, timeout: float | None) -> None:
        self._url = url
        self._timeout = timeout
        self._client: aioredis.Redis | None = None

    def _connection(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry_on_timeout=False,
            )
        return self._client

    async def get(self, key: str) -> str | None:
        value = await self._connection().get(key)
        return None if value is None else value.decode("utf-8", "replace")

    async def set(self, key: str, value: str) -> None:
        await self._connection().set(key, value, ex=self.TTL_S)

    async def recent(self, key: str, count: int) -> list[str]:
        """The newest ``count`` entries of a list (an agent's memory), newest first."""
        values = await self._connection().lrange(key, 0, count - 1)
        return [v.decode("utf-8", "replace") for v in values]

    async def remember(self, key: str, entry: str, keep: int) -> None:
        """``entry`` pushed on a list that keeps its newest ``keep`` entries, in one round trip."""
        async with self._connection().pipeline(transaction=True) as pipe:
            pipe.lpush(key, entry).ltrim(key, 0, keep - 1).expire(key, self.TTL_S)
            await pipe.execute()

    async def ping(self) -> None:
        await self._connection().ping()

    def reset(self) -> None:
        """Drop the client after a failure: a cancelled command can leave a connection mid-reply."""
        client, self._client = self._client, None
        if client is not None:
            close_in_background("redis", client.close(close_connection_pool=True))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.wait_for(client.close(close_connection_pool=True), CLOSE_TIMEOUT_S)


class PostgresStore:
    """Task rows; the schema is created on first connect."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS agent_tasks (
            task_id     TEXT PRIMARY KEY,
            service     TEXT NOT NULL,
            source      TEXT NOT NULL,
            input       TEXT NOT NULL,
            result      TEXT NOT NULL,
            trace_id    TEXT NOT NULL,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )
    """
    INSERT = """
        INSERT INTO agent_tasks (task_id, service, source, input, result, trace_id)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id) DO NOTHING
    """

    def __init__(self, dsn: str, password_file: str, timeout: float | None) -> None:
        self._dsn = dsn
        self._password_file = password_file
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _connection_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self._dsn,
                    password=read_secret(self._password_file),
                    min_size=1,
                    max_size=4,
                    timeout=self._timeout or UNBOUNDED_S,
                    command_timeout=self._timeout,
                )
                try:
                    await pool.execute(self.SCHEMA)
                except BaseException:
                    pool.terminate()
                    raise
                self._pool = pool
            return self._pool

    async def insert(self, *, task_id: str, service: str, source: str, text: str, result: str) -> None:
        pool = await self._connection_pool()
        ctx = tracing.current()
        await pool.execute(self.INSERT, task_id, service, source, text, result, ctx.trace_id if ctx else "")

    async def ping(self) -> None:
        pool = await self._connection_pool()
        await pool.execute("SELECT 1")

    def reset(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_S)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                pool.terminate()


class HttpClients:
    """One aiohttp session for Ollama and the peer agents, with trace headers on every call."""

    def __init__(self, timeout: float | None, propagate_trace: bool = True) -> None:
        self._timeout = timeout
        self._propagate_trace = propagate_trace
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            t = self._timeout
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=t, sock_connect=t, sock_read=t),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    async def post_json(
        self, url: str, upstream: str, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST to ``upstream`` (its service name); an answer is logged with the trace id it was sent (rule
        7.3: the logs show which service each trace id was passed to)."""
        sent = {**tracing.outgoing_headers(self._propagate_trace), **(headers or {})}
        async with self.session().post(url, json=payload, headers=sent) as resp:
            body = await resp.text()
            if resp.status != 200:
                raise DependencyFailed(url, f"HTTP {resp.status}: {body[:200]}")
            # Only a 200 is a hop: every callee logs those with their trace id (Ollama's refusals it may not).
            log.info("call", extra=fields(upstream=upstream, url=url, status=resp.status))
            data = json.loads(body)
            if not isinstance(data, dict):
                raise DependencyFailed(url, "answer is not a JSON object")
            return data

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await asyncio.wait_for(session.close(), CLOSE_TIMEOUT_S)


class Ollama:
    def __init__(self, http: HttpClients, url: str, model: str, num_predict: int) -> None:
        self._http = http
        self._url = url + "/api/generate"
        self._model = model
        self._num_predict = num_predict

    async def generate(self, prompt: str) -> str:
        data = await self._http.post_json(
            self._url,
            OLLAMA_SERVICE,
            {
                "model": self._model,
                "prompt": prompt,
                "stream": False,
                "options": {"num_predict": self._num_predict},
            },
        )
        return str(data.get("response", ""))


CALLER_HEADER = "X-Agent-Caller"  # set on calls to peers; an agent called by a peer does not call its own


class PeerAgent:
    def __init__(self, http: HttpClients, peer: Peer, caller: str) -> None:
        self._http = http
        self.name = peer.name
        self._url = peer.url + "/api/task"
        self._caller = caller

    async def task(self, text: str) -> str:
        data = await self._http.post_json(
            self._url, self.name, {"input": text}, {CALLER_HEADER: self._caller}
        )
        return str(data.get("result", ""))


AMQP_HEARTBEAT_S = 10  # RabbitMQ then sends a frame at least every 5 s ...
AMQP_RECEIVE_TIMEOUT = 4  # ... and aiormq drops a connection silent for (4 + 1) * 3 = 15 s


def amqp_url(url: str, password_file: str, timeout: float | None) -> str:
    """The AMQP URL with the secret's password and aiormq's keepalive settings filled in.

    aiormq's `timeout` query is its frame-receive timeout ((timeout + 1) * 3 s), not a
    per-call timeout, so it is tied to the heartbeat rather than to DEPENDENCY_TIMEOUT_S.
    With DEPENDENCY_TIMEOUT_S=0 heartbeats are off too: a frozen broker is never noticed."""
    parts = urllib.parse.urlsplit(url)
    password = read_secret(password_file)
    netloc = parts.netloc
    if password is not None:
        host = netloc.rpartition("@")[2]
        user = urllib.parse.unquote(parts.username or "guest")
        netloc = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}@{host}"
    query = dict(urllib.parse.parse_qsl(parts.query))
    if timeout is None:
        query.setdefault("heartbeat", "0")
        query.setdefault("timeout", str(int(UNBOUNDED_S)))
    else:
        query.setdefault("heartbeat", str(AMQP_HEARTBEAT_S))
        query.setdefault("timeout", str(AMQP_RECEIVE_TIMEOUT))
    return urllib.parse.urlunsplit(
        (parts.scheme, netloc, parts.path, urllib.parse.urlencode(query), parts.fragment)
    )
