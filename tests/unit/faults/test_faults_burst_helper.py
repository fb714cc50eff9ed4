"""The burst helper's program (harness/images/burst/burst.py) run as the container runs it, against a
small server on 127.0.0.1 that queues like a model server: bounded in count, proven by the rise of the
gauges, refusing any address outside private networks; and against a gateway-like pair (requests on one
port, a counter of them on another): proven by the counter covering every request answered."""

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
    received = 0
    counts = True
    """Whether POSTs are counted in ``requests_total`` (on arrival, as HAProxy counts them)."""
    metrics: _Server | None = None
    """Whose ``/metrics`` a GET answers: None, the server's own is not there (503, as HAProxy's 8080)."""
    bodies: list[dict] = []
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        of = self.server.metrics
        if of is None:
            self._answer(503, b"no /metrics here")
            return
        text = f"# HELP x\nollama_requests_inflight {of.inflight}\nollama_queue_depth 0\n"
        text += f'requests_total{{frontend="api"}} {of.received}\nrequests_total{{frontend="stats"}} 7\n'
        self._answer(200, text.encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.received += 1 if self.server.counts else 0
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


def _serving() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.bodies, httpd.metrics = [], httpd
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serving()


@pytest.fixture
def exporter() -> Iterator[_Server]:
    """A second server, whose /metrics a gateway's tests read apart from where the requests go."""
    yield from _serving()


@pytest.fixture
def gateway(server: _Server, exporter: _Server) -> tuple[_Server, _Server]:
    """Requests on one port, with no /metrics there; the counter of them on another port."""
    server.metrics, exporter.metrics = None, server
    return server, exporter


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


def gateway_plan(gateway: tuple[_Server, _Server], requests: int, counter: str = "requests_total") -> str:
    """Requests to the gateway's front, proven by ``counter`` read from its exporter."""
    front, exporter = gateway
    plan = plan_for(
        "http_burst",
        4,
        requests,
        path="/api/indexer/task",
        proof_port=exporter.server_address[1],
        proof_counter=counter,
    )
    return plan.document("127.0.0.1", front.server_address[1])


def test_a_counter_read_on_another_port_proves_the_burst(gateway: tuple[_Server, _Server]) -> None:
    code, events = run(gateway_plan(gateway, 12))
    assert code == 0
    baseline, rose, done = events[0], next(e for e in events if e["event"] == "rose"), events[-1]
    assert baseline["value"] == 7  # every series of the counter: other frontends' counts only add
    assert rose["value"] - rose["before"] >= rose["answered"] >= 1
    assert done["rose"] and done["sent"] == 12 and done["statuses"] == {"200": 12}


def test_a_burst_the_target_does_not_count_is_not_proven(gateway: tuple[_Server, _Server]) -> None:
    gateway[0].counts = False
    code, events = run(gateway_plan(gateway, 8))
    assert code == 0 and "rose" not in [e["event"] for e in events]
    assert events[-1]["rose"] is False and events[-1]["statuses"] == {"200": 8}


@pytest.mark.parametrize("where", ["another counter", "the port the requests go to"])
def test_nothing_is_sent_when_the_counter_cannot_be_read(
    gateway: tuple[_Server, _Server], where: str
) -> None:
    front = gateway[0]
    document = json.loads(
        gateway_plan(gateway, 8, "other_total" if where == "another counter" else "requests_total")
    )
    if where != "another counter":
        document["proof_port"] = document["port"]  # where HAProxy answers /metrics with 503
    code, events = run(json.dumps(document))
    reason = f"cannot read {document['counter']} from /metrics on 127.0.0.1:{document['proof_port']}"
    assert code == 3 and events == [{"event": "refused", "reason": reason}]
    assert front.received == front.answered == 0


@pytest.mark.parametrize(
    ("before", "now", "answered", "proven"),
    [(10, 30, 20, True), (10, 29, 20, False), (10, 30, 0, False), (10, 11, 1, False)],
)
def test_a_counter_proves_only_a_rise_covering_every_answer(
    before: int, now: int, answered: int, proven: bool
) -> None:
    plan = json.loads(plan_for("http_burst", 8, 40, proof_counter="requests_total").document("127.0.0.1", 80))
    assert plan["rise"] == 2 and plan["proof"] == []
    assert helper.took_effect(plan, before, now, answered) is proven


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
