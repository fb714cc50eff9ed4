"""The relay example's worker over HTTP, run by Debian's python3 as its image runs it (aiohttp, redis,
prometheus_client and the `circuitbreaker` library from Debian's archive), against a stand-in Redis in this
process that answers, closes every connection, or never answers."""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

SERVICES = Path(__file__).resolve().parents[2] / "examples" / "relay" / "services"
DEBIAN_PYTHON = "/usr/bin/python3"
RUNTIME = "import aiohttp, redis.asyncio, prometheus_client, circuitbreaker"


def _has_runtime() -> bool:
    if not os.path.exists(DEBIAN_PYTHON):
        return False
    return subprocess.run([DEBIAN_PYTHON, "-c", RUNTIME], capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(
    not _has_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp, -redis, -circuitbreaker"
)


class StandInRedis(socketserver.ThreadingTCPServer):
    """Answers INCRBY like Redis (mode ``up``), closes each connection at once (``closing``), or holds it
    without a word (``silent``, a frozen Redis)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RespHandler)
        self.mode = "up"
        self.counts: dict[bytes, int] = {}

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RespHandler(socketserver.StreamRequestHandler):
    server: StandInRedis

    def handle(self) -> None:
        while self.server.mode == "up":
            header = self.rfile.readline()
            if not header.startswith(b"*"):
                return
            parts = [self._bulk() for _ in range(int(header[1:]))]
            if self.server.mode != "up":
                break
            if parts[0].upper() == b"INCRBY":
                self.server.counts[parts[1]] = self.server.counts.get(parts[1], 0) + int(parts[2])
                self.wfile.write(b":%d\r\n" % self.server.counts[parts[1]])
            else:
                self.wfile.write(b"+OK\r\n")
        while self.server.mode == "silent":
            time.sleep(0.05)

    def _bulk(self) -> bytes:
        self.rfile.readline()  # $<length>
        return self.rfile.readline().rstrip(b"\r\n")


@pytest.fixture
def redis() -> Iterator[StandInRedis]:
    server = StandInRedis()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.mode = "closing"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def worker(redis: StandInRedis, **env: str) -> Iterator[str]:
    port = _free_port()
    settings = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(SERVICES),
        "PORT": str(port),
        "SERVICE_NAME": "worker-a",
        "DEPENDENCY": "kv",
        "DEPENDENCY_URL": f"redis://127.0.0.1:{redis.port}/0",
        "DEPENDENCY_TIMEOUT_S": "0.5",
        "BREAKER_RESET_TIMEOUT_S": "2",
        **env,
    }
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([DEBIAN_PYTHON, "-m", "relayworker"], env=settings, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise AssertionError(f"the worker did not start: {log.read().decode(errors='replace')}")
                time.sleep(0.05)
            yield base
        finally:
            proc.terminate()
            assert proc.wait(10) == 0  # SIGTERM: a graceful exit


def job(base: str) -> dict[str, object]:
    response = httpx.post(f"{base}/api/job", json={"key": "k"}, timeout=10)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    assert ("X-Fallback" in response.headers) == body["fallback"]
    return body


def metric(base: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{prefix.strip()} not exported")


def breaker(base: str, name: str) -> float:
    return metric(base, f"circuit_breaker_{name}", dependency="kv")


def test_a_job_is_counted_in_the_dependency(redis: StandInRedis) -> None:
    with worker(redis) as base:
        assert [job(base)["count"] for _ in range(2)] == [1, 2]
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="success") == 2
        assert breaker(base, "state") == 0
        assert metric(base, "agent_tasks_completed_total") == 2


def test_the_breaker_opens_after_5_failures_falls_back_half_opens_on_time_and_closes(
    redis: StandInRedis,
) -> None:
    with worker(redis) as base:
        redis.mode = "closing"
        assert all(job(base)["fallback"] for _ in range(8))
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="failure") == 5
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="short_circuited") == 3
        assert metric(base, "fallback_responses_total", dependency="kv") == 8
        assert (
            breaker(base, "state"),
            breaker(base, "last_open_failures"),
            breaker(base, "opened_total"),
        ) == (
            1,
            5,
            1,
        )
        redis.mode = "up"
        time.sleep(2.1)
        assert breaker(base, "state") == 2  # half-open by time, no call needed
        opened, half_open = (
            breaker(base, "last_opened_timestamp_seconds"),
            breaker(base, "last_half_open_timestamp_seconds"),
        )
        assert half_open - opened == pytest.approx(2.0, abs=0.01)
        assert job(base)["count"] == 1
        assert breaker(base, "state") == 0


def test_calls_in_flight_when_it_opens_neither_count_nor_restart_its_timer(redis: StandInRedis) -> None:
    with worker(redis) as base:
        redis.mode = "silent"
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda _: job(base), range(12)))
        assert all(a["fallback"] for a in answers)
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="failure") == 12
        assert breaker(base, "opened_total") == 1
        assert breaker(base, "last_open_failures") == 5
        assert breaker(base, "consecutive_failures") == 5


def test_health_never_waits_for_the_dependency(redis: StandInRedis) -> None:
    with worker(redis) as base:
        redis.mode = "silent"
        started = time.monotonic()
        assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
        assert time.monotonic() - started < 0.4


def test_without_the_breaker_every_call_goes_to_the_failing_dependency(redis: StandInRedis) -> None:
    with worker(redis, BREAKER_ENABLED="false") as base:
        redis.mode = "closing"
        assert all(job(base)["fallback"] for _ in range(8))
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="failure") == 8
        assert metric(base, "dependency_requests_total", dependency="kv", outcome="short_circuited") == 0
        assert (breaker(base, "state"), breaker(base, "opened_total")) == (0, 0)


def test_a_bad_setting_stops_it_at_start_with_exit_2() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SERVICES), "SERVICE_NAME": "w"}
    result = subprocess.run(
        [DEBIAN_PYTHON, "-m", "relayworker"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "DEPENDENCY: required" in result.stdout
