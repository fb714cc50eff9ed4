"""What the caching analyzer reads from the agent (rule 8.3), run as the image runs it, against a stand-in
Redis on loopback: a repeated task is a hit, its first a miss, each timed by that result; an unreachable
Redis makes the lookup an error and the task is served uncached, not failed (unless fallbacks are off);
CACHE_ENABLED=false (mutant no-cache) never looks up nor writes, every task counted as disabled."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

import _paths  # noqa: F401  (puts stack/services on sys.path)
import httpx
import pytest
from _services import Service, free_port, has_debian_runtime, service

from agent.config import Config, ConfigError

needs_runtime = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)
RESULTS = ("hit", "miss", "error", "disabled")


class _Resp(socketserver.StreamRequestHandler):
    """The few RESP commands the agent's client sends: PING, SELECT, GET, SET key value EX n."""

    server: FakeRedis

    def handle(self) -> None:
        while line := self.rfile.readline():
            args = [self._bulk() for _ in range(int(line[1:]))]
            self.wfile.write(self.server.answer(args))

    def _bulk(self) -> bytes:
        length = int(self.rfile.readline()[1:])
        return self.rfile.read(length + 2)[:-2]


class FakeRedis(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Resp)
        self.store: dict[bytes, bytes] = {}
        self.commands: list[str] = []
        self._lock = threading.Lock()

    def answer(self, args: list[bytes]) -> bytes:
        name = args[0].decode().upper()
        with self._lock:
            self.commands.append(name)
            if name == "GET":
                value = self.store.get(args[1])
                return b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)
            if name == "SET":
                self.store[args[1]] = args[2]
                return b"+OK\r\n"
        return b"+PONG\r\n" if name == "PING" else b"+OK\r\n"


R = TypeVar("R", bound=FakeRedis)


@contextmanager
def serving(server: R) -> Iterator[R]:
    """``server`` answering from a daemon thread for the block, shut down after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def fake_redis() -> AbstractContextManager[FakeRedis]:
    return serving(FakeRedis())


@contextmanager
def agent(state_dir: Path, redis_url: str, **env: str) -> Iterator[Service]:
    environment = {
        "BIND_HOST": "127.0.0.1",
        "STATE_DIR": str(state_dir),
        "REDIS_URL": redis_url,
        "DEPENDENCY_TIMEOUT_S": "0.5",
        **env,
    }
    with service("agent", free_port(), **environment) as running:
        running.wait_healthy()
        yield running


def task(running: Service, text: str = "the same question") -> httpx.Response:
    return httpx.post(f"{running.base}/api/task", json={"input": text}, timeout=10)


def sample(base: str, name: str, labels: str = "") -> float | None:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def lookups(running: Service) -> dict[str, float | None]:
    return {r: sample(running.base, "agent_cache_requests_total", f'{{result="{r}"}}') for r in RESULTS}


def timed(running: Service, result: str) -> float | None:
    return sample(running.base, "agent_cache_task_duration_seconds_count", f'{{result="{result}"}}')


def test_caching_is_on_unless_cache_enabled_says_false() -> None:
    assert Config.from_env({}).cache_enabled
    assert not Config.from_env({"CACHE_ENABLED": "false"}).cache_enabled
    with pytest.raises(ConfigError, match="CACHE_ENABLED"):
        Config.from_env({"CACHE_ENABLED": "sometimes"})


@needs_runtime
def test_a_repeated_task_is_a_hit_and_each_answer_is_timed_by_its_result(tmp_path: Path) -> None:
    with fake_redis() as redis, agent(tmp_path, f"redis://127.0.0.1:{redis.server_address[1]}/1") as running:
        assert lookups(running) == dict.fromkeys(RESULTS, 0.0)  # every series from the start
        first, again = task(running), task(running)
        assert (first.status_code, again.status_code) == (200, 200), first.text
        assert (first.json()["cached"], again.json()["cached"]) == (False, True)
        assert again.json()["result"] == first.json()["result"]
        assert lookups(running) == {"hit": 1.0, "miss": 1.0, "error": 0.0, "disabled": 0.0}
        assert (timed(running, "hit"), timed(running, "miss")) == (1.0, 1.0)
        assert "SELECT" in redis.commands and len(redis.store) == 1


@needs_runtime
def test_an_unreachable_redis_is_an_error_served_uncached_not_a_failed_task(tmp_path: Path) -> None:
    with agent(tmp_path, f"redis://127.0.0.1:{free_port()}/0") as running:
        # past the breaker's 5 failures: its short-circuited lookups are errors too
        answers = [task(running) for _ in range(7)]
        assert all(a.status_code == 200 and not a.json()["cached"] for a in answers)
        assert all("redis" in a.json()["fallbacks"] for a in answers)
        assert lookups(running) == {"hit": 0.0, "miss": 0.0, "error": 7.0, "disabled": 0.0}
        assert timed(running, "error") == 7.0
        assert sample(running.base, "agent_tasks_failed_total") == 0.0
        assert sample(running.base, "agent_tasks_completed_total") == 7.0


@needs_runtime
def test_with_fallbacks_off_a_failed_lookup_fails_the_task_and_is_still_counted(tmp_path: Path) -> None:
    with agent(tmp_path, f"redis://127.0.0.1:{free_port()}/0", FALLBACK_ENABLED="false") as running:
        assert task(running).status_code == 503
        assert lookups(running)["error"] == 1.0
        assert timed(running, "error") == 0.0  # not served: nothing to time
        assert sample(running.base, "agent_tasks_failed_total") == 1.0


@needs_runtime
def test_cache_enabled_false_never_looks_up_nor_writes(tmp_path: Path) -> None:
    with (
        fake_redis() as redis,
        agent(tmp_path, f"redis://127.0.0.1:{redis.server_address[1]}/0", CACHE_ENABLED="false") as running,
    ):
        answers = [task(running), task(running)]
        assert [a.json()["cached"] for a in answers] == [False, False]
        assert lookups(running) == {"hit": 0.0, "miss": 0.0, "error": 0.0, "disabled": 2.0}
        assert timed(running, "disabled") == 2.0
        assert not {"GET", "SET"} & set(redis.commands) and not redis.store


@needs_runtime
def test_an_agent_without_redis_exports_no_cache_series(tmp_path: Path) -> None:
    with service("agent", free_port(), BIND_HOST="127.0.0.1", STATE_DIR=str(tmp_path)) as running:
        running.wait_healthy()
        assert task(running).status_code == 200
        assert sample(running.base, "agent_cache_requests_total", '{result="miss"}') is None
