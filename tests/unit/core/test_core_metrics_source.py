"""The MetricsSource port: one conformance test for the fake and for PrometheusSource (over a stub of
Prometheus' HTTP API on loopback, answering from the same fake), and error translation at the edge."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from harness.errors import MeasurementError
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.port import MetricsSource, labels_of
from harness.metrics.prometheus import PrometheusSource, parse_prometheus_duration
from harness.windows import Window

T = 1_700_000_000.0
UP = 'up{job="agent"}'


def loaded_fake() -> FakeMetricsSource:
    fake = FakeMetricsSource(scrape_interval=1.0)
    fake.put(
        UP, {"__name__": "up", "job": "agent", "instance": "a:1"}, [(T + i, float(i % 2)) for i in range(10)]
    )
    fake.put(UP, {"__name__": "up", "job": "agent", "instance": "b:1"}, [(T + 3, 7.0)])
    return fake


def _number(value: float) -> str:
    return "NaN" if value != value else repr(value)


class _Stub(BaseHTTPRequestHandler):
    fake: FakeMetricsSource
    mode = "ok"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.mode == "500":
            return self._send(500, {"status": "error", "error": "boom"})
        if self.mode == "garbage":
            return self._send(200, "<html>not prometheus</html>")
        if url.path == "/api/v1/targets":
            return self._send(
                200,
                {
                    "status": "success",
                    "data": {
                        "activeTargets": [
                            {"labels": {"job": "agent"}, "scrapeInterval": "1s"},
                            {"labels": {"job": "slow"}, "scrapeInterval": "1m30s"},
                        ],
                        "droppedTargets": [],
                    },
                },
            )
        if url.path == "/api/v1/query":
            result = [
                {"metric": dict(s.labels), "value": [s.samples[0].t, _number(s.samples[0].value)]}
                for s in self.fake.instant(args["query"], float(args["time"]))
            ]
            return self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        if url.path == "/api/v1/query_range":
            window = Window("w", float(args["start"]), float(args["end"]))
            result = [
                {"metric": dict(s.labels), "values": [[p.t, _number(p.value)] for p in s.samples]}
                for s in self.fake.range(args["query"], window, float(args["step"]))
            ]
            return self._send(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})
        return self._send(404, {"status": "error"})


@pytest.fixture(scope="module")
def server() -> Iterator[type[_Stub]]:
    handler = type("Handler", (_Stub,), {"fake": loaded_fake(), "mode": "ok"})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def stub(server: type[_Stub]) -> Iterator[type[_Stub]]:
    server.mode = "ok"
    yield server
    server.mode = "ok"


@pytest.fixture(params=["fake", "prometheus"])
def source(request, stub) -> MetricsSource:
    if request.param == "fake":
        return loaded_fake()
    return PrometheusSource(stub.url, timeout_s=5)


def test_conformance_instant_answers_the_latest_sample_per_series(source):
    answer = sorted(source.instant(UP, T + 4.5), key=lambda s: s.labels)
    assert [s.label("instance") for s in answer] == ["a:1", "b:1"]
    assert [s.samples[0].value for s in answer] == [0.0, 7.0]
    assert all(len(s.samples) == 1 for s in answer)
    assert answer[0].labels == labels_of({"__name__": "up", "job": "agent", "instance": "a:1"})


def test_conformance_instant_before_any_sample_answers_nothing_for_that_series(source):
    assert [s.label("instance") for s in source.instant(UP, T + 1)] == ["a:1"]


def test_conformance_range_answers_the_samples_inside_the_window(source):
    (series, *_) = [
        s for s in source.range(UP, Window("w", T + 2, T + 5), 1.0) if s.label("instance") == "a:1"
    ]
    assert [p.t for p in series.samples] == [T + 2, T + 3, T + 4, T + 5]
    assert [p.value for p in series.samples] == [0.0, 1.0, 0.0, 1.0]


def test_conformance_unknown_query_answers_nothing(source):
    assert source.instant("nothing_here", T + 5) == ()
    assert source.range("nothing_here", Window("w", T, T + 5), 1.0) == ()


def test_conformance_scrape_interval(source):
    assert source.scrape_interval("agent") == 1.0


def test_prometheus_scrape_interval_is_the_coarsest(stub):
    assert PrometheusSource(stub.url).scrape_interval() == 90.0


@pytest.mark.parametrize(("mode", "words"), [("500", "refused"), ("garbage", "malformed")])
def test_prometheus_errors_become_measurement_errors(stub, mode, words):
    stub.mode = mode
    source = PrometheusSource(stub.url, timeout_s=5)
    for call in (
        lambda: source.instant(UP, T),
        lambda: source.range(UP, Window("w", T, T + 5), 1.0),
        source.scrape_interval,
    ):
        with pytest.raises(MeasurementError, match=words):
            call()


def test_unreachable_prometheus_is_a_measurement_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = PrometheusSource(f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(MeasurementError, match="unreachable"):
        source.instant(UP, T)


def test_prometheus_durations():
    assert parse_prometheus_duration("1m30s") == 90
    assert parse_prometheus_duration("500ms") == 0.5
    with pytest.raises(ValueError):
        parse_prometheus_duration("soon")
