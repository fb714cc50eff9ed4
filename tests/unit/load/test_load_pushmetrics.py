"""The locustfile's metrics plugin: histogram and counters per request, pushes, the progress file."""

from __future__ import annotations

import json

import pytest
from pushmetrics import BUCKETS, ClientMetrics, Progress, RateMeter, Reporter


class Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def value(metrics: ClientMetrics, series: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(series, labels)


def test_the_buckets_are_the_contracts():
    assert BUCKETS == (
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        0.75,
        1,
        1.5,
        2,
        2.5,
        3,
        4,
        5,
        7.5,
        10,
        15,
        30,
        60,
    )


def test_a_success_is_observed_in_seconds_and_counted_with_a_zero_failure_series():
    metrics = ClientMetrics()
    metrics.on_request("POST", "orchestrator task", 120.0, 10, response=Response(200), context={})
    labels = {"name": "orchestrator task", "method": "POST"}
    assert value(metrics, "locust_request_duration_seconds_bucket", le="0.1", **labels) == 0
    assert value(metrics, "locust_request_duration_seconds_bucket", le="0.25", **labels) == 1
    assert value(metrics, "locust_request_duration_seconds_sum", **labels) == pytest.approx(0.12)
    assert value(metrics, "locust_requests_total", outcome="success", **labels) == 1
    assert value(metrics, "locust_requests_total", outcome="failure", **labels) == 0
    assert value(metrics, "locust_rate_limited_total", **labels) == 0


def test_errors_and_timeouts_are_failures_in_the_histogram_too():
    metrics = ClientMetrics()
    metrics.on_request(
        "GET", "indexer health", 30000.0, 0, response=None, exception=TimeoutError("timed out")
    )
    metrics.on_request("GET", "indexer health", 4.0, 0, response=Response(503), exception=RuntimeError("503"))
    labels = {"name": "indexer health", "method": "GET"}
    assert value(metrics, "locust_requests_total", outcome="failure", **labels) == 2
    assert value(metrics, "locust_requests_total", outcome="success", **labels) == 0
    assert value(metrics, "locust_request_duration_seconds_count", **labels) == 2
    assert value(metrics, "locust_request_duration_seconds_bucket", le="15.0", **labels) == 1
    assert value(metrics, "locust_request_duration_seconds_bucket", le="30.0", **labels) == 2


def test_a_429_is_a_failure_and_counted_as_rate_limited():
    metrics = ClientMetrics()
    metrics.on_request(
        "POST", "summarizer task", 2.0, 0, response=Response(429), exception=RuntimeError("429")
    )
    labels = {"name": "summarizer task", "method": "POST"}
    assert value(metrics, "locust_requests_total", outcome="failure", **labels) == 1
    assert value(metrics, "locust_rate_limited_total", **labels) == 1


def test_the_rate_meter_answers_requests_per_second_since_the_last_reading():
    meter = RateMeter(10.0)
    assert meter.rate(11.0, 40) == 40.0
    assert meter.rate(11.5, 50) == 20.0
    assert meter.rate(11.5, 60) == 0.0  # no time passed
    assert meter.rate(12.5, 55) == 0.0  # a reset count never gives a negative rate


def test_the_reporter_pushes_the_group_and_writes_the_progress_file(tmp_path, pushgateway):
    metrics = ClientMetrics()
    metrics.on_request("GET", "summarizer health", 3.0, 0, response=Response(200))
    progress_path = tmp_path / "progress.json"
    reporter = Reporter(metrics, pushgateway_url=pushgateway.url, run_id="run-7", progress_path=progress_path)
    reporter.report(Progress(state="running", users=4, rps=12.5, requests=1, failures=0))
    assert pushgateway.requests == [("PUT", "/metrics/job/locust/instance/run-7")]
    assert value(metrics, "locust_users") == 4
    assert json.loads(progress_path.read_text()) == {
        "state": "running",
        "users": 4,
        "rps": 12.5,
        "requests": 1,
        "failures": 0,
    }


def test_a_failing_push_is_logged_once_and_the_load_goes_on(tmp_path, caplog):
    reporter = Reporter(
        ClientMetrics(), pushgateway_url="http://127.0.0.1:9", run_id="r", progress_path=tmp_path / "p.json"
    )
    for users in (1, 2, 3):
        reporter.report(Progress(state="running", users=users, rps=0.0, requests=0, failures=0))
    assert [r.message for r in caplog.records if "push to" in r.message][:1]
    assert len([r for r in caplog.records if "failed" in r.message]) == 1
    assert json.loads((tmp_path / "p.json").read_text())["users"] == 3


def test_a_reporter_without_sinks_is_inactive():
    assert not Reporter(ClientMetrics(), pushgateway_url="", run_id="r", progress_path=None).active
