"""retry_backoff (rule 10.2) on synthetic retry histograms, as Prometheus' increase over the window answers
them: retries after 1, 2, 4 s that stop after the third pass; retries without a wait, flat 1 s waits and a
fourth retry fail; buckets that cannot decide, no retry at all, no series or too few scrapes are errors,
never a pass."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest
from core_synth import context, timeline

from harness.analyzers import ANALYZERS
from harness.analyzers.retry_backoff import RetryBackoffParams
from harness.analyzers.retry_backoff import run as retry_backoff
from harness.catalogue import parse_text
from harness.errors import InputError
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure, Finding

TIMELINE = timeline(steady=20, fault=45, recovery=40)
WHOLE = TIMELINE.whole
PARAMS = RetryBackoffParams()
QUERIES = PARAMS.queries(("service", "operation"), WHOLE.promql_range())
EDGES = (0.25, 0.5, 0.9, 1.5, 1.9, 3, 3.9, 6, 10, math.inf)  # the reference agents' buckets
INDEXER = "agent-indexer"
CONSUMER = f"{INDEXER}/queue_consumer"

Intervals = Mapping[str, Sequence[float]]
"""Per retry label, the measured seconds of each retry in the window."""
EXPONENTIAL: Intervals = {"1": [1.002, 1.004], "2": [2.003, 2.01], "3": [4.002, 4.05]}
NO_WAIT: Intervals = {"1": [0.004, 0.003], "2": [0.002, 0.004], "3": [0.003, 0.002]}  # no-retry-backoff
FLAT: Intervals = {"1": [1.001, 1.002], "2": [1.003, 1.001], "3": [1.002, 1.004]}
FOREVER: Intervals = {"1": [1.002], "2": [2.004], "3": [4.003], "4+": [4.002] * 7}  # retry-forever


def put(
    fake: FakeMetricsSource,
    intervals: Intervals = EXPONENTIAL,
    service: str = INDEXER,
    operation: str = "queue_consumer",
    edges: Sequence[float] = EDGES,
    factor: float = 1.0,
) -> None:
    """One operation's bucket, count and sum increases over the whole window; every retry label is declared
    (zero series) as the agents declare them. ``factor`` is PromQL's extrapolation past the scrapes."""
    at = WHOLE.end
    for retry in ("1", "2", "3", "4+"):
        seconds = intervals.get(retry, ())
        labels = {"service": service, "operation": operation, "retry": retry}
        for edge in edges:
            count = sum(1 for s in seconds if s <= edge) * factor
            le = "+Inf" if math.isinf(edge) else f"{edge:g}"
            fake.put(QUERIES["buckets"], {**labels, "le": le}, [(at, count)])
        fake.put(QUERIES["count"], labels, [(at, len(seconds) * factor)])
        fake.put(QUERIES["sum"], labels, [(at, sum(seconds) * factor)])


def judged(fake: FakeMetricsSource, params: RetryBackoffParams = PARAMS, **kw: object) -> Finding:
    return retry_backoff(
        context(fake, "whole", TIMELINE, service_label="service", faulted="rabbitmq", **kw), params
    )


def statuses(finding: Finding) -> dict[str, str]:
    return {c.name: c.status for c in finding.evidence.checks}


def figures(finding: Finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name: f.value for f in finding.measured if isinstance(f, Figure)}


def test_retries_after_1_2_4_s_that_stop_after_the_third_pass() -> None:
    fake = FakeMetricsSource()
    put(fake)
    put(fake, {"1": [1.01]}, "agent-orchestrator", "buffer_drain")  # succeeded at its first retry
    put(fake, {}, "agent-orchestrator", "state_save")  # never retried: not judged
    finding = judged(fake)
    assert finding.status == "pass", finding.reason
    assert statuses(finding) == {
        f"{CONSUMER} backoff": "pass",
        f"{CONSUMER} gives up": "pass",
        "agent-orchestrator/buffer_drain backoff": "pass",
        "agent-orchestrator/buffer_drain gives up": "skipped",
    }
    measured = figures(finding)
    assert measured[f"retries[{CONSUMER}]"] == 6
    assert measured[f"retry_3_interval[{CONSUMER}]"] == pytest.approx(4.026)
    assert measured[f"retries_past_max[{CONSUMER}]"] == 0
    details = " ".join(c.detail for c in finding.evidence.checks)
    assert "retry 2: 2 after (1.9, 3] s, expected 2 s (1.9-3 s)" in details
    assert "every series ended by retry 1 (succeeded)" in details


def test_extrapolated_increases_read_as_whole_observations() -> None:
    fake = FakeMetricsSource()
    put(fake, factor=1.03)
    assert judged(fake).status == "pass"


def test_retries_without_a_wait_fail() -> None:
    fake = FakeMetricsSource()
    put(fake, NO_WAIT)
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding)[f"{CONSUMER} backoff"] == "fail"
    assert "retry 1: 2 after (0, 0.25] s of 2, expected 1 s (0.9-1.5 s)" in finding.reason


def test_flat_1_s_waits_fail_from_the_second_retry() -> None:
    fake = FakeMetricsSource()
    put(fake, FLAT)
    finding = judged(fake)
    assert finding.status == "fail"
    assert "retry 1:" not in finding.reason  # the first wait is right
    assert "retry 2: 2 after (0.9, 1.5] s of 2, expected 2 s (1.9-3 s)" in finding.reason
    assert "retry 3: 2 after (0.9, 1.5] s of 2, expected 4 s (3.9-6 s)" in finding.reason


def test_a_fourth_retry_fails_giving_up() -> None:
    fake = FakeMetricsSource()
    put(fake, FOREVER)
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding) == {f"{CONSUMER} backoff": "pass", f"{CONSUMER} gives up": "fail"}
    assert "7 retries past the 3rd (4+: 7): it does not give up" in finding.reason
    assert figures(finding)[f"retries_past_max[{CONSUMER}]"] == 7


def test_a_slow_retry_fails_and_a_bucket_across_the_range_is_an_error() -> None:
    fake = FakeMetricsSource()
    put(fake, {"1": [1.7]})  # 0.2 s past 1.5 s: in (1.5, 1.9], wholly outside
    assert judged(fake).status == "fail"
    coarse = FakeMetricsSource()  # the default latency buckets: 0.95 s lies in (0.75, 1], across 0.9 s
    put(coarse, {"1": [0.95]}, edges=(0.5, 0.75, 1, 1.5, 2, 3, 4, 5, math.inf))
    finding = judged(coarse)
    assert finding.status == "error"
    assert "retry 1: 1 in (0.75, 1] s: the buckets cannot decide against 0.9-1.5 s" in finding.reason


def test_no_retry_in_the_window_is_an_error() -> None:
    fake = FakeMetricsSource()
    put(fake, {})
    put(fake, {}, "agent-orchestrator", "buffer_drain")
    finding = judged(fake)
    assert finding.status == "error"
    assert "no retry in window 'whole' (2 operation(s) timed, none retried)" in finding.reason


def test_no_series_is_an_error() -> None:
    finding = judged(FakeMetricsSource())
    assert finding.status == "error"
    assert "no series for" in finding.reason and "do they time their retries?" in finding.reason


def test_too_few_scrapes_is_an_error() -> None:
    fake = FakeMetricsSource(scrape_interval=60.0)
    put(fake)
    finding = judged(fake, scrape=60.0)
    assert finding.status == "error"
    assert statuses(finding) == {"resolution": "error"}


def test_a_grouped_retry_label_within_the_limit_cannot_be_judged() -> None:
    fake = FakeMetricsSource()
    put(fake, {"1": [1.01], "2": [2.01], "3": [4.01], "4+": [4.0]})
    finding = judged(fake, RetryBackoffParams(max_retries=5))
    assert finding.status == "error"
    assert "retries 4+ are counted together" in finding.reason


def test_the_analyzer_is_registered_and_needs_a_fault() -> None:
    spec = ANALYZERS["retry_backoff"]
    assert spec.needs_fault
    assert spec.describe(PARAMS) == (
        "retries after 1, 2, 4 s (each 0.1 s sooner to 50% later), at most 3 per series"
    )


CATALOGUE = """\
version: 1
scenarios:
  rabbitmq-kill: {{fault: {{kind: container_kill, target: rabbitmq}}}}
objectives:
  - id: retry-backoff
    rule: "10.2"
    scenarios: [rabbitmq-kill]
    window: whole
    analyzer: {{name: retry_backoff, params: {params}}}
"""


def test_params_are_read_from_slas_yaml() -> None:
    text = CATALOGUE.format(params="{selector: 'job=\"agents\"', early: 100ms, max_retries: 3}")
    catalogue = parse_text(text, "slas.yaml")
    assert catalogue.objectives[0].measurement.params == RetryBackoffParams(
        selector='job="agents"', early=0.1
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{initial: 0s}", "initial"),
        ("{multiplier: 0.5}", "initial"),
        ("{max_retries: 0}", "max_retries"),
        ("{early: 2s}", "early"),
        ("{late: 0}", "early"),
    ],
)
def test_bad_parameters_are_input_errors(params: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_text(CATALOGUE.format(params=params), "slas.yaml")
