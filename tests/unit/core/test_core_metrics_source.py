"""The MetricsSource port: one conformance test for the fake and for PrometheusSource (over a stub of
Prometheus' HTTP API on loopback, answering from the same fake), and error translation at the edge."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.errors import MeasurementError
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.fake_api import FakePrometheusApi, serve_prometheus
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


@pytest.fixture(scope="module")
def server() -> Iterator[type[FakePrometheusApi]]:
    with serve_prometheus(loaded_fake(), (("agent", "1s"), ("slow", "1m30s"))) as handler:
        yield handler


@pytest.fixture
def stub(server: type[FakePrometheusApi]) -> Iterator[type[FakePrometheusApi]]:
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
