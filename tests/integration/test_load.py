"""LocustLoad end to end: real Locust, the real locustfile, a real Pushgateway (Debian's binary), against
a stub gateway on 127.0.0.1; and the harness process's own CPU share while the load runs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load import LoadProgress, LocustLoad, LocustSettings, delete_stale_groups, running
from harness.load.conformance import check_driver

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "load" / "locustfile.py"
PUSHGATEWAY = Path("/usr/bin/prometheus-pushgateway")
NAMES = {
    "orchestrator task",
    "summarizer task",
    "indexer task",
    "orchestrator async",
    "orchestrator health",
    "summarizer health",
    "search task",
    "indexer health",
}
LOCUST = (sys.executable, "-m", "locust")
LEVEL = LoadLevel(users=5, spawn_rate=10, rate=25.0)
LOAD_SECONDS = 8.0
CPU_SHARE_LIMIT = 0.10

# The stub gateway runs in a process of its own, so its CPU is not counted as the harness's.
STUB = textwrap.dedent(
    """
    import http.server, json, re, sys, threading
    seen = {"requests": 0, "without_trace": 0, "unknown": 0}
    ROUTE = re.compile(r"^/api/(orchestrator|summarizer|indexer|search)/(task|task/async|health)$")
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def route(self, method):
            if self.path == "/stats":
                return self.answer(200, seen)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            match = ROUTE.match(self.path)
            seen["requests"] += 1
            seen["without_trace"] += not self.headers.get("X-Trace-ID")
            if not match or (match[2] == "health") != (method == "GET"):
                seen["unknown"] += 1
                return self.answer(404, {"error": "no route"})
            self.answer(202 if match[2] == "task/async" else 200, {"status": "ok"})
        def do_GET(self):
            self.route("GET")
        def do_POST(self):
            self.route("POST")
        def log_message(self, *args):
            pass
    http.server.ThreadingHTTPServer.request_queue_size = 128
    http.server.ThreadingHTTPServer.daemon_threads = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    threading.Timer(300, server.shutdown).start()  # bounded, whatever happens to the test
    server.serve_forever()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def await_http(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{what} did not answer {url} within 20 s")


@pytest.fixture(scope="module")
def stub_gateway() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", STUB, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        await_http(f"{url}/stats", process, "the stub gateway")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[str]:
    if not PUSHGATEWAY.exists():
        pytest.skip(f"{PUSHGATEWAY} is missing (apt-get install -y prometheus-pushgateway)")
    port = free_port()
    process = subprocess.Popen(
        [
            str(PUSHGATEWAY),
            f"--web.listen-address=127.0.0.1:{port}",
            "--persistence.file=",
            "--log.level=warn",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await_http(f"{url}/-/ready", process, "the Pushgateway")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def group_series(pushgateway_url: str, run_id: str) -> dict[str, float]:
    """Every sample of the run's group, keyed by its series text."""
    text = httpx.get(f"{pushgateway_url}/metrics", timeout=5).text
    samples = {}
    for line in text.splitlines():
        if line.startswith("locust_") and f'instance="{run_id}"' in line:
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples


def users_series(run_id: str) -> str:
    return f'locust_users{{instance="{run_id}",job="locust"}}'


def total(samples: dict[str, float], metric: str, **labels: str) -> float:
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return sum(
        v for s, v in samples.items() if s.startswith(metric + "{") and all(label in s for label in wanted)
    )


def test_locust_load_pushes_client_metrics_bounded_in_rate_and_deletes_them_at_stop(
    stub_gateway, pushgateway, tmp_path
):
    run_id = f"it-{os.getpid()}"
    driver = LocustLoad(
        LocustSettings(LOCUSTFILE, host=stub_gateway, pushgateway_url=pushgateway, workdir=tmp_path)
    )
    with running(driver, LEVEL, LOAD_SECONDS, run_id) as load:
        first, wall0, cpu0 = load.progress(), time.monotonic(), time.process_time()
        samples: list[LoadProgress] = []
        while time.monotonic() - wall0 < LOAD_SECONDS:
            time.sleep(1.0)  # what a runner does: one progress line a second
            samples.append(load.progress())
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        last = samples[-1]
        pushed = group_series(pushgateway, run_id)
        final = FinalPushWatcher(pushgateway, run_id)  # sees the last push before the group is deleted
    final.join()

    rate = (last.requests - first.requests) / wall
    share = cpu / wall
    summary = load.summary
    assert summary is not None
    print(
        f"\nLocust: {rate:.1f} req/s at a bound of {LEVEL.rate:g} req/s ({LEVEL.users} users), "
        f"{summary.requests} requests, {summary.failures} failures in {summary.duration:.1f} s; "
        f"harness CPU {100 * share:.2f}% of one core ({cpu:.3f} s CPU in {wall:.1f} s)"
    )
    assert 0.7 * LEVEL.rate < rate < 1.15 * LEVEL.rate
    assert share <= CPU_SHARE_LIMIT
    assert all(s.users == LEVEL.users for s in samples)
    assert summary.exit_code == 0 and summary.warnings == ()
    assert summary.failures == 0

    # While running: every request name, both outcomes, histogram and counters agreeing, the users.
    names = {m for s in pushed for m in re.findall(r'name="([^"]+)"', s)}
    assert names == NAMES
    requests = total(pushed, "locust_requests_total")
    assert requests == total(pushed, "locust_request_duration_seconds_count") > 0
    assert total(pushed, "locust_requests_total", outcome="failure") == 0
    assert total(pushed, "locust_request_duration_seconds_bucket", le="+Inf") == requests
    assert pushed[users_series(run_id)] == LEVEL.users
    assert abs(requests - last.requests) <= 2 * LEVEL.rate  # pushed once a second

    # The final push (at test stop) holds every request, then stop() deleted the group.
    assert final.requests == summary.requests
    assert final.users == 0
    assert group_series(pushgateway, run_id) == {}

    stats = httpx.get(f"{stub_gateway}/stats", timeout=5).json()
    assert stats["without_trace"] == 0 and stats["unknown"] == 0
    assert stats["requests"] >= summary.requests


class FinalPushWatcher(threading.Thread):
    """Polls the run's group until it disappears, remembering the last totals seen."""

    def __init__(self, pushgateway_url: str, run_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.run_id = pushgateway_url, run_id
        self.requests, self.users = -1.0, -1.0
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            samples = group_series(self.url, self.run_id)
            if not samples:
                return
            self.requests = total(samples, "locust_requests_total")
            self.users = samples.get(users_series(self.run_id), -1.0)
            time.sleep(0.1)


def test_real_locust_passes_the_driver_conformance_check(stub_gateway, tmp_path):
    bounds = LoadBounds(max_users=10, max_rate=50, max_duration=60)
    driver = LocustLoad(LocustSettings(LOCUSTFILE, host=stub_gateway, bounds=bounds, workdir=tmp_path))
    last = check_driver(driver, bounds, LEVEL, 10, "it-conformance", patience=10.0)
    assert last.requests > 0


def test_the_locustfile_runs_standalone_without_a_pushgateway(stub_gateway):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_", "PUSHGATEWAY_"))}
    before = httpx.get(f"{stub_gateway}/stats", timeout=5).json()["requests"]
    result = subprocess.run(
        [
            *LOCUST,
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "-u",
            "5",
            "-r",
            "5",
            "-t",
            "3s",
            "--host",
            stub_gateway,
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    served = httpx.get(f"{stub_gateway}/stats", timeout=5).json()["requests"] - before
    # The default rate is 20 req/s over all users: about 60 in 3 s, never unbounded.
    assert 20 <= served <= 80
    assert "Aggregated" in result.stdout + result.stderr


def test_stale_locust_groups_are_swept_and_others_kept(pushgateway):
    gauge = "# TYPE locust_users gauge\nlocust_users 3\n"
    for path in ("job/locust/instance/killed-run", "job/other/instance/x"):
        httpx.put(f"{pushgateway}/metrics/{path}", content=gauge, timeout=5).raise_for_status()
    assert delete_stale_groups(pushgateway) == ("killed-run",)
    groups = httpx.get(f"{pushgateway}/api/v1/metrics", timeout=5).json()["data"]
    assert [g["labels"] for g in groups] == [{"instance": "x", "job": "other"}]
