"""load.workers: 2 for real: a Locust master and two workers (the real locustfile) against a loopback HTTP
server of the test's own, pushing to a recording Pushgateway on loopback; no Docker. The requests add up
(server, Locust's merged statistics, the pushed series), the series are pushed by the master alone into
one group, the rate bound holds for the whole load, and the master and every worker end with the harness
that started them (a SIGKILLed harness: load/parentwatch.py)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from load_support import LOAD_DIR, REPO, serving
from prometheus_client.parser import text_string_to_metric_families
from test_load_locust_driver import exited

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.faults import Journal
from harness.load import LocustLoad, LocustSettings

pytestmark = pytest.mark.slow

LEVEL = LoadLevel(users=4, spawn_rate=20, rate=20.0, workers=2)
LOAD_SECONDS = 4.0


class Recorder:
    """A loopback HTTP server answering 200 to everything: ``hits`` counts requests by method and path,
    ``bodies`` keeps the last body PUT or POSTed to each path."""

    def __init__(self) -> None:
        self.hits: Counter[tuple[str, str]] = Counter()
        self.bodies: dict[str, str] = {}
        lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(
                    "utf-8", "replace"
                )
                with lock:
                    recorder.hits[(self.command, self.path)] += 1
                    if self.command in ("PUT", "POST"):
                        recorder.bodies[self.path] = body
                data = b'{"status": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    stub = Recorder()
    with serving(stub.server):
        yield stub


def pushed(body: str) -> dict[str, float]:
    """Sums by sample name of a pushed exposition."""
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def test_a_master_and_two_workers_add_up_and_only_the_master_pushes(
    tmp_path: Path, recorder: Recorder
) -> None:
    gateway, pushgateway = Recorder(), recorder
    thread = threading.Thread(target=gateway.server.serve_forever, daemon=True)
    thread.start()
    settings = LocustSettings(
        locustfile=LOAD_DIR / "locustfile.py",
        host=gateway.url,
        bounds=LoadBounds(max_users=10, max_rate=50, max_duration=60),
        pushgateway_url=pushgateway.url,
        workdir=tmp_path,
        scrape_delay=0.0,
        run_time_slack=20.0,
    )
    try:
        driver = LocustLoad(settings)
        driver.start(LEVEL, LOAD_SECONDS, "distributed")
        time.sleep(LOAD_SECONDS)
        progress = driver.progress()
        summary = driver.stop()
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()
    served = sum(count for (method, _), count in gateway.hits.items() if method in ("GET", "POST"))
    group = "/metrics/job/locust/instance/distributed"
    pushes = {path for (method, path) in pushgateway.hits if method in ("PUT", "POST")}
    assert pushes == {group}  # one group, the master's: no worker pushed a group of its own
    assert pushgateway.hits[("DELETE", group)] == 1
    final = pushed(pushgateway.bodies[group])
    assert summary.lost == () and progress.lost_workers == 0 and progress.users == LEVEL.users
    assert summary.requests > 0
    # Every request the workers made reached the master once: its statistics, its pushed series, the server.
    assert final["locust_requests_total"] == summary.requests
    assert final["locust_request_duration_seconds_count"] == summary.requests
    assert abs(served - summary.requests) <= LEVEL.users  # at most one request in flight per user at stop
    # The rate bound is the whole load's: 20/s over both workers, not 20/s each.
    assert summary.requests <= LEVEL.rate * (summary.duration + 1)
    for index in (1, 2):
        assert (tmp_path / "distributed" / f"locust-worker-{index}.log").exists()


HARNESS = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.catalogue.model import LoadBounds, LoadLevel
    from harness.faults import Journal
    from harness.load import LocustLoad, LocustSettings
    workdir, host = Path(sys.argv[1]), sys.argv[2]
    settings = LocustSettings(locustfile=Path(sys.argv[3]), host=host, workdir=workdir, run_time_slack=60.0,
                              bounds=LoadBounds(max_users=10, max_rate=50, max_duration=120))
    LocustLoad(settings, register=Journal(workdir / "journal.json")).start(
        LoadLevel(users=2, spawn_rate=20, rate=4.0, workers=2), 60, "orphaned")
    print("started", flush=True)
    time.sleep(120)
    """
)


def test_the_master_and_every_worker_end_soon_after_the_harness_is_sigkilled(
    tmp_path: Path, recorder: Recorder
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_"))}
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(tmp_path), recorder.url, str(LOAD_DIR / "locustfile.py")],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert harness.stdout is not None and harness.stdout.readline() == b"started\n"
        loads = json.loads((tmp_path / "journal.json").read_text())["loads"]
        pids = [load["pid"] for load in loads]
        assert len(pids) == 3
        os.kill(harness.pid, signal.SIGKILL)
        harness.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(exited(pid) for pid in pids):
            time.sleep(0.2)
        alive = [pid for pid in pids if not exited(pid)]
        assert alive == [], "left running after the harness died"
    finally:
        harness.kill()
        harness.wait()
        for load in Journal(tmp_path / "journal.json").loads():  # never leave one behind, even on failure
            with contextlib.suppress(ProcessLookupError):
                os.killpg(load.pid, signal.SIGKILL)
