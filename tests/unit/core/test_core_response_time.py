"""Rule 8.1 analyzer: percentiles from histograms, per window and group, with the resolution guard."""

from __future__ import annotations

import pytest
from core_synth import context, put_histogram, timeline

from harness.analyzers.response_time import ResponseTimeParams, run
from harness.metrics.fake import FakeMetricsSource

HEALTH = 'path="/health"'
JOB = (("job", "agent-orchestrator"),)


def measure(groups, params: ResponseTimeParams, window="fault", offset=0.0, scrape=1.0, tl=None):
    tl = tl or timeline()
    fake = FakeMetricsSource(scrape_interval=scrape)
    chosen = tl.window(window)
    put_histogram(
        fake,
        chosen,
        groups,
        params.percentile,
        params.metric,
        params.selector,
        params.by if params.by is not None else ("job",),
        offset,
    )
    return run(context(fake, window, tl, scrape=scrape), params)


def test_fast_health_checks_pass():
    params = ResponseTimeParams(threshold=1.0, percentile="max", selector=HEALTH)
    finding = measure({JOB: [0.004, 0.02, 0.03, 0.2] * 25}, params)
    assert finding.status == "pass", finding.reason
    assert finding.measured == pytest.approx(0.25)
    assert finding.threshold == "max < 1 s"
    assert any("histogram_quantile(1," in q for q in finding.evidence.queries)
    assert any(
        "increase(http_request_duration_seconds_bucket{" + HEALTH + "}" in q for q in finding.evidence.queries
    )


def test_slow_api_fails():
    params = ResponseTimeParams(threshold=5.0, percentile="p99")
    finding = measure({JOB: [0.1] * 90 + [6.0] * 10}, params)
    assert finding.status == "fail"
    assert finding.measured is not None and finding.measured > 5
    assert "breaks p99 < 5 s" in finding.reason


def test_threshold_inside_the_bucket_is_an_error_not_a_pass():
    # p99 lies in (0.75, 1]; 0.9 s could be either side of it
    params = ResponseTimeParams(threshold=0.9, percentile="p99")
    finding = measure({JOB: [0.8] * 100}, params)
    assert finding.status == "error"
    assert "cannot decide" in finding.reason


def test_bucket_edge_at_the_threshold_decides():
    params = ResponseTimeParams(threshold=1.0, percentile="p99")
    assert measure({JOB: [0.8] * 100}, params).status == "pass"


def test_client_rounding_widens_the_interval_into_an_error():
    params = ResponseTimeParams(threshold=1.0, percentile="p99", rounding=0.02)
    finding = measure({JOB: [0.8] * 100}, params)
    assert finding.status == "error"
    assert "0.02 s rounding" in finding.reason


def test_beyond_the_last_finite_bucket_fails_when_the_edge_is_past_the_threshold():
    params = ResponseTimeParams(threshold=5.0, percentile="max")
    finding = measure({JOB: [0.1] * 10 + [90.0]}, params)
    assert finding.status == "fail"
    assert "+Inf" in finding.reason


def test_no_samples_is_an_error():
    params = ResponseTimeParams(threshold=1.0)
    finding = run(context(FakeMetricsSource(), "fault"), params)
    assert finding.status == "error"
    assert "no samples" in finding.reason
    assert finding.measured is None


def test_no_observations_is_an_error():
    params = ResponseTimeParams(threshold=1.0)
    finding = measure({JOB: []}, params)
    assert finding.status == "error"
    assert "no observations" in finding.reason


def test_too_few_observations_is_an_error():
    params = ResponseTimeParams(threshold=1.0, min_observations=50)
    finding = measure({JOB: [0.01] * 10}, params)
    assert finding.status == "error"
    assert "only 10 observations" in finding.reason


def test_promql_disagreeing_with_python_is_an_error():
    params = ResponseTimeParams(threshold=1.0)
    finding = measure({JOB: [0.01] * 10}, params, offset=0.003)
    assert finding.status == "error"
    assert "cannot trust" in finding.reason


def test_window_shorter_than_the_scrapes_it_needs_is_an_error():
    params = ResponseTimeParams(threshold=1.0)
    finding = measure({JOB: [0.01] * 10}, params, scrape=30.0)
    assert finding.status == "error"
    assert "fewer than 4 scrapes" in finding.reason


def test_unknown_scrape_interval_is_an_error():
    params = ResponseTimeParams(threshold=1.0)
    finding = measure({JOB: [0.01] * 10}, params, scrape=None)
    assert finding.status == "error"


def test_every_group_is_judged_and_the_worst_is_measured():
    params = ResponseTimeParams(threshold=1.0, percentile="p95")
    groups = {(("job", "a"),): [0.01] * 100, (("job", "b"),): [2.0] * 100}
    finding = measure(groups, params)
    assert finding.status == "fail"
    assert "p95[b]" in finding.reason and "p95[a]" not in finding.reason
    assert finding.measured == pytest.approx(1.5 + 0.5 * 0.95)  # interpolated in (1.5, 2]
    assert {f.name for f in finding.evidence.figures} == {"p95[a]", "p95[b]"}


def test_window_choice_reads_that_window():
    params = ResponseTimeParams(threshold=1.0)
    tl = timeline()
    finding = measure({JOB: [0.01] * 10}, params, window="steady", tl=tl)
    assert finding.status == "pass"
    assert finding.evidence.window == tl.steady
    assert "[30000ms]" in finding.evidence.queries[0]


def test_params_validate():
    with pytest.raises(ValueError, match="threshold"):
        ResponseTimeParams(threshold=0)


def test_the_trend_over_the_scenario_is_plotted_with_the_threshold():
    params = ResponseTimeParams(threshold=1.0, percentile="p99")
    tl = timeline()
    fake = FakeMetricsSource()
    put_histogram(fake, tl.fault, {JOB: [0.01] * 10}, "p99")
    trend = "histogram_quantile(0.99, sum by (le, job) (increase(http_request_duration_seconds_bucket{}[4000ms])))"
    fake.put(trend, dict(JOB), [(tl.whole.start + i, 0.01 * i) for i in range(100)])
    finding = run(context(fake, "fault", tl), params)
    assert finding.status == "pass"
    assert finding.evidence.limit == 1.0
    assert len(finding.evidence.plot) == 1 and len(finding.evidence.plot[0].samples) == 100
    assert trend in finding.evidence.queries


def test_no_trend_is_fetched_when_nothing_was_measured():
    finding = run(context(FakeMetricsSource(), "fault"), ResponseTimeParams(threshold=1.0))
    assert finding.evidence.plot == ()
    assert not any("[4000ms]" in q for q in finding.evidence.queries)


def _counts(fake, tl, before: float, now: float, selector=""):
    fake.put(
        f"sum by (job) (increase(http_request_duration_seconds_count{{{selector}}}[30000ms]))",
        dict(JOB),
        [(tl.steady.end, before)],
    )
    fake.put(
        f"sum by (job) (increase(http_request_duration_seconds_count{{{selector}}}[60000ms]))",
        dict(JOB),
        [(tl.fault.end, now)],
    )


def test_requests_that_hang_fail_on_throughput_though_the_few_that_complete_are_fast():
    params = ResponseTimeParams(threshold=5.0)
    tl = timeline()
    fake = FakeMetricsSource()
    put_histogram(fake, tl.fault, {JOB: [0.05] * 20}, "p99")
    _counts(fake, tl, before=300.0, now=20.0)  # 10/s in steady, 0.33/s in the fault
    finding = run(context(fake, "fault", tl), params)
    assert finding.status == "fail"
    assert finding.reason.startswith("throughput[agent-orchestrator]: 0.333/s completed against 10/s")
    assert "requests hang" in finding.reason


def test_steady_throughput_kept_passes_and_the_check_can_be_off():
    tl = timeline()
    fake = FakeMetricsSource()
    put_histogram(fake, tl.fault, {JOB: [0.05] * 20}, "p99")
    _counts(fake, tl, before=300.0, now=400.0)
    finding = run(context(fake, "fault", tl), ResponseTimeParams(threshold=5.0))
    assert finding.status == "pass", finding.reason
    assert any(c.name == "throughput[agent-orchestrator]" for c in finding.evidence.checks)
    fake = FakeMetricsSource()
    put_histogram(fake, tl.fault, {JOB: [0.05] * 20}, "p99")
    _counts(fake, tl, before=300.0, now=20.0)
    assert (
        run(context(fake, "fault", tl), ResponseTimeParams(threshold=5.0, min_throughput_ratio=0)).status
        == "pass"
    )
