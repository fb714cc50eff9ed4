"""The burst helper's program (harness/images/burst/burst.py) run as the container runs it, against a
small server on 127.0.0.1 that queues like a model server: bounded in count, proven by the rise of the
gauges, refusing any address outside private networks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.faults.burst import IMAGE_DIR, plan_for

SCRIPT = IMAGE_DIR / "burst.py"
_SPEC = importlib.util.spec_from_file_location("burst_helper", SCRIPT)
assert _SPEC is not None and _SPEC.loader is not None
helper = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(helper)  # the script itself, as the image holds it: its functions test directly


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    inflight = 0
    answered = 0
    bodies: list[dict] = []
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        text = f"# HELP x\nollama_requests_inflight {self.server.inflight}\nollama_queue_depth 0\n"
        self._answer(200, text.encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.inflight += 1
            self.server.bodies.append(body)
        time.sleep(0.3)
        with self.server.lock:
            self.server.inflight -= 1
            self.server.answered += 1
        self._answer(200, b"{}")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.bodies = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def run(plan: str) -> tuple[int, list[dict]]:
    done = subprocess.run([sys.executable, str(SCRIPT), plan], capture_output=True, text=True, timeout=30)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_the_burst_is_bounded_in_count_and_shows_in_the_gauges(server: _Server) -> None:
    plan = plan_for("ollama_load", concurrency=6, requests=12, models=("a", "b"), num_predict=4)
    code, events = run(plan.document("127.0.0.1", server.server_address[1]))
    assert code == 0
    names = [e["event"] for e in events]
    assert names[0] == "baseline" and "rose" in names and names[-1] == "done"
    done = events[-1]
    assert done["sent"] == 12 and done["statuses"] == {"200": 12} and done["peak"] >= 3
    assert server.answered == 12
    assert sorted(b["prompt"] for b in server.bodies) == sorted(f"burst {n}" for n in range(12))
    assert [b["model"] for b in server.bodies].count("a") == 6


def test_distinct_sends_that_many_bodies_each_a_model_with_its_input() -> None:
    plan = json.loads(plan_for("http_burst", 1, 12, models=("a", "b"), distinct=3).document("127.0.0.1", 80))
    sent = [json.loads(helper.body(plan, n)) for n in range(12)]
    assert [(b["model"], b["input"]) for b in sent[:3]] == [
        ("a", "burst 0"),
        ("b", "burst 1"),
        ("a", "burst 2"),
    ]
    assert sent[3:] == sent[:3] * 3  # request n is request n mod 3: the model and the input repeat together
    fresh = json.loads(plan_for("http_burst", 1, 12).document("127.0.0.1", 80))
    assert [json.loads(helper.body(fresh, n))["input"] for n in (0, 7)] == ["burst 0", "burst 7"]


def test_the_helper_repeats_the_distinct_bodies(server: _Server) -> None:
    plan = plan_for("http_burst", concurrency=3, requests=9, distinct=2)
    code, events = run(plan.document("127.0.0.1", server.server_address[1]))
    assert code == 0 and events[-1]["statuses"] == {"200": 9}
    assert sorted(b["input"] for b in server.bodies) == ["burst 0"] * 5 + ["burst 1"] * 4


def test_no_request_starts_after_the_duration(server: _Server) -> None:
    plan = plan_for("ollama_load", concurrency=1, requests=1000, models=("a",), duration=0.5)
    code, events = run(plan.document("127.0.0.1", server.server_address[1]))
    assert code == 0 and 1 <= events[-1]["sent"] <= 3


@pytest.mark.parametrize(
    ("host", "reason"),
    [("8.8.8.8", "own networks only"), ("example.org", "bad plan")],
)
def test_an_address_outside_private_networks_is_refused(host: str, reason: str) -> None:
    plan = plan_for("http_burst", concurrency=1, requests=1)
    code, events = run(plan.document(host, 80))
    assert code == 2 and events[0]["event"] == "refused" and reason in events[0]["reason"]


@pytest.mark.parametrize(
    ("key", "value", "says"), [("requests", 0, "must be positive"), ("distinct", 0, "distinct")]
)
def test_a_plan_without_limits_is_refused(key: str, value: int, says: str) -> None:
    document = json.loads(plan_for("http_burst", concurrency=1, requests=1).document("127.0.0.1", 80))
    document[key] = value
    code, events = run(json.dumps(document))
    assert code == 2 and says in events[0]["reason"]


def test_nothing_is_sent_when_the_gauges_cannot_be_read() -> None:
    plan = plan_for("http_burst", concurrency=2, requests=4)
    code, events = run(plan.document("127.0.0.1", 9))
    assert code == 3 and events == [{"event": "refused", "reason": "cannot read /metrics on 127.0.0.1:9"}]
