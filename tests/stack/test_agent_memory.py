"""The agent's memory of recent exchanges in Redis (MEMORY_TURNS), run as the image runs it, against a stand-in
Redis and the model server on loopback: a task that misses the cache reads the memory and gives it to the
model, then writes its own exchange (the list trimmed to MEMORY_TURNS); a hit neither waits for it nor writes
it; MEMORY_TURNS=0 never touches it. What makes a Redis that does not answer cost each miss two timeouts
when no breaker opens (the lookup and the memory read at once, then the memory write): the partition
scenario redis-partition-drop and mutant breaker-disabled."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
from _services import Service, free_port, has_debian_runtime, service
from test_agent_cache import FakeRedis, agent, serving

from agent.config import Config

needs_runtime = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)


class MemoryRedis(FakeRedis):
    """The cache's GET and SET, and the lists and transactions the memory uses."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[bytes, list[bytes]] = {}
        self.queued: list[list[bytes]] | None = None

    def answer(self, args: list[bytes]) -> bytes:
        name = args[0].decode().upper()
        with self._lock:
            if name == "MULTI":
                self.commands.append(name)
                self.queued = []
                return b"+OK\r\n"
            if name == "EXEC" and self.queued is not None:
                self.commands.append(name)
                queued, self.queued = self.queued, None
                replies = [self._list_command(q) for q in queued]
                return b"*%d\r\n" % len(replies) + b"".join(replies)
            if self.queued is not None:
                self.queued.append(args)
                return b"+QUEUED\r\n"
            if name in ("LRANGE", "LPUSH", "LTRIM", "EXPIRE"):
                self.commands.append(name)
                return self._list_command(args)
        return super().answer(args)

    def _list_command(self, args: list[bytes]) -> bytes:
        name, key = args[0].decode().upper(), args[1]
        values = self.lists.setdefault(key, [])
        if name == "LPUSH":
            values[:0] = reversed(args[2:])
            return b":%d\r\n" % len(values)
        if name == "LTRIM":
            self.lists[key] = values[int(args[2]) : int(args[3]) + 1]
            return b"+OK\r\n"
        if name == "EXPIRE":
            return b":1\r\n"
        found = values[int(args[2]) : int(args[3]) + 1]  # LRANGE
        return b"*%d\r\n" % len(found) + b"".join(b"$%d\r\n%s\r\n" % (len(v), v) for v in found)


class SilentServer:
    """Accepts connections and never answers: a Redis whose packets are dropped, as near as loopback gets."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def close(self) -> None:
        for connection in self.held:
            connection.close()
        self.socket.close()


def memory_redis() -> AbstractContextManager[MemoryRedis]:
    return serving(MemoryRedis())


@contextmanager
def model_server() -> Iterator[str]:
    with service(
        "modelserver",
        free_port(),
        OLLAMA_HOST="127.0.0.1",
        MODEL_CATALOG="tinyllama=8388608",
        TOKEN_CPU_MS="1",
    ) as running:
        running.wait_healthy()
        yield running.base


def task(running: Service, text: str) -> httpx.Response:
    return httpx.post(f"{running.base}/api/task", json={"input": text}, timeout=20)


def test_memory_turns_default_3_and_0_turns_it_off() -> None:
    assert Config.from_env({}).memory_turns == 3
    assert Config.from_env({"MEMORY_TURNS": "0"}).memory_turns == 0


@needs_runtime
def test_a_miss_reads_the_memory_and_writes_its_exchange_a_hit_writes_nothing(tmp_path: Path) -> None:
    with memory_redis() as redis, model_server() as ollama:
        url = f"redis://127.0.0.1:{redis.server_address[1]}/0"
        with agent(tmp_path, url, OLLAMA_URL=ollama, AGENT_NAME="agent-x", MEMORY_TURNS="2") as running:
            answers = [task(running, text) for text in ("one", "two", "three", "three")]
            assert [a.status_code for a in answers] == [200] * 4, answers[0].text
            assert [a.json()["cached"] for a in answers] == [False, False, False, True]
            assert all(not a.json()["fallbacks"] for a in answers)
            memory = redis.lists[b"agent:memory:agent-x"]
            assert [m.split(b" -> ")[0] for m in memory] == [b"three", b"two"]  # newest first, trimmed to 2
            assert redis.commands.count("EXEC") == 3  # one write per miss; the hit wrote nothing


@needs_runtime
def test_memory_turns_0_never_touches_the_memory(tmp_path: Path) -> None:
    with memory_redis() as redis, model_server() as ollama:
        url = f"redis://127.0.0.1:{redis.server_address[1]}/0"
        with agent(tmp_path, url, OLLAMA_URL=ollama, MEMORY_TURNS="0") as running:
            assert task(running, "one").status_code == 200
            assert not {"LRANGE", "MULTI"} & set(redis.commands)


@needs_runtime
@pytest.mark.parametrize("breaker", ["false", "true"])
def test_a_silent_redis_costs_a_miss_two_timeouts_until_the_breaker_opens(
    tmp_path: Path, breaker: str
) -> None:
    silent = SilentServer()
    try:
        with (
            model_server() as ollama,
            agent(
                tmp_path, f"redis://127.0.0.1:{silent.port}/0", OLLAMA_URL=ollama, BREAKER_ENABLED=breaker
            ) as running,
        ):
            took = []
            for n in range(4):
                started = time.monotonic()
                answer = task(running, f"task {n}")
                took.append(time.monotonic() - started)
                assert answer.status_code == 200 and "redis" in answer.json()["fallbacks"]
    finally:
        silent.close()
    # DEPENDENCY_TIMEOUT_S 0.5: the lookup and the memory read wait at once (0.5 s), the write another 0.5 s.
    # The agent's warm-up pings Redis meanwhile and drops its client after each failed ping, which can cut
    # one task's wait short.
    if breaker == "false":
        assert sum(t >= 0.95 for t in took) >= 3, took  # every task waits twice
    else:
        # failures 1-3 on the first task, 4-5 on the second's lookup and read: open, its write short-circuited
        assert took[0] >= 0.45 and max(took[2:]) < 0.3, took
