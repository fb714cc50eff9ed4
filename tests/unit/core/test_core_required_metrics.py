"""Rule 7.1 analyzer: the required names on every target."""

from __future__ import annotations

import pytest
from core_synth import context

from harness.analyzers.required_metrics import RULE_7_1, RequiredMetricsParams, run
from harness.metrics.fake import FakeMetricsSource

PARAMS = RequiredMetricsParams(selector='job=~"agent-.*"')
UP = 'up{job=~"agent-.*"}'
NAMES = (
    'group by (job, instance, __name__) ({__name__=~"(process_cpu_seconds_total|process_resident_memory_bytes|'
    "http_requests_total|http_request_duration_seconds|agent_tasks_completed_total|agent_tasks_failed_total)"
    '(_bucket|_count|_sum)?", job=~"agent-.*"})'
)
TARGETS = ({"job": "agent-a", "instance": "a:1"}, {"job": "agent-b", "instance": "b:1"})


def source(up=(1.0, 1.0), drop=()):
    fake = FakeMetricsSource()
    end = 1_700_000_030.0
    for target, value in zip(TARGETS, up, strict=True):
        fake.put(UP, target, [(end, value)])
        for name in RULE_7_1:
            if (target["job"], name) in drop:
                continue
            exposed = name + "_bucket" if name == "http_request_duration_seconds" else name
            fake.put(NAMES, {**target, "__name__": exposed}, [(end, 1.0)])
    return fake


def test_all_present_passes():
    finding = run(context(source(), "steady"), PARAMS)
    assert finding.status == "pass", finding.reason
    assert finding.evidence.queries == (UP, NAMES)


def test_a_missing_name_fails_naming_it():
    finding = run(context(source(drop={("agent-b", "agent_tasks_failed_total")}), "steady"), PARAMS)
    assert finding.status == "fail"
    assert finding.reason == "agent-b/b:1: missing 1 of 6: agent_tasks_failed_total"


def test_a_histogram_counts_only_through_its_series():
    finding = run(context(source(drop={("agent-a", "http_request_duration_seconds")}), "steady"), PARAMS)
    assert finding.status == "fail"
    assert "http_request_duration_seconds" in finding.reason


def test_a_target_that_is_down_fails():
    finding = run(context(source(up=(1.0, 0.0)), "steady"), PARAMS)
    assert finding.status == "fail"
    assert "target down" in finding.reason


def test_no_target_is_an_error():
    finding = run(context(FakeMetricsSource(), "steady"), PARAMS)
    assert finding.status == "error"
    assert "no target matches" in finding.reason


def test_names_must_be_metric_names():
    with pytest.raises(ValueError, match="names"):
        RequiredMetricsParams(names=("bad name",))
