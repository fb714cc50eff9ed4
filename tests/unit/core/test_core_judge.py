"""Objective + scenario -> Verdict: windows, skips, and a Prometheus that goes away."""

from __future__ import annotations

from core_synth import T0, put_histogram, timeline

from harness.analyzers.judge import judge, judge_scenario
from harness.catalogue import parse_text
from harness.metrics.fake import FakeMetricsSource

CATALOGUE = parse_text(
    """\
version: 1
scenarios:
  baseline: {}
  redis-kill: {fault: {kind: container_kill, target: redis}}
objectives:
  - id: health
    rule: "8.1"
    description: health under 1 s
    scenarios: all
    window: fault
    analyzer: {name: response_time, params: {threshold: 1s, percentile: max, selector: 'path="/health"'}}
  - id: breaker
    rule: "3.4"
    scenarios: all
    window: whole
    severity: warn
    analyzer: {name: circuit_breaker, params: {dependency: redis}}
""",
    "slas.yaml",
)
HEALTH, BREAKER = CATALOGUE.objectives


def test_a_verdict_carries_the_objective_identity_and_evidence():
    tl = timeline()
    fake = FakeMetricsSource()
    put_histogram(fake, tl.fault, {(("job", "a"),): [0.01] * 50}, "max", matchers='path="/health"')
    verdict = judge(HEALTH, CATALOGUE.scenario("redis-kill"), tl, fake, 1.0)
    assert (verdict.id, verdict.rule, verdict.scenario, verdict.window, verdict.severity) == (
        "health",
        "8.1",
        "redis-kill",
        "fault",
        "gate",
    )
    assert verdict.status == "pass", verdict.reason
    assert verdict.description == "health under 1 s"
    assert verdict.evidence.window == tl.fault
    assert verdict.evidence.phases == tl.phases


def test_a_window_the_scenario_lacks_is_skipped_with_the_reason():
    verdict = judge(HEALTH, CATALOGUE.scenario("baseline"), timeline(fault=None), FakeMetricsSource(), 1.0)
    assert verdict.status == "skipped"
    assert "no 'fault' window" in verdict.reason


def test_an_analyzer_that_needs_a_fault_is_skipped_on_a_baseline():
    verdict = judge(BREAKER, CATALOGUE.scenario("baseline"), timeline(fault=None), FakeMetricsSource(), 1.0)
    assert verdict.status == "skipped"
    assert "circuit_breaker needs one" in verdict.reason


def test_an_empty_window_is_an_error():
    verdict = judge(HEALTH, CATALOGUE.scenario("redis-kill"), timeline(fault=0), FakeMetricsSource(), 1.0)
    assert verdict.status == "error"
    assert "empty" in verdict.reason


def test_prometheus_gone_mid_run_gives_error_verdicts_naming_why():
    fake = FakeMetricsSource()
    fake.fail("Prometheus at http://127.0.0.1:10400 unreachable: connection refused")
    verdicts = judge_scenario(CATALOGUE, CATALOGUE.scenario("redis-kill"), timeline(), fake)
    assert [v.status for v in verdicts] == ["error", "error"]
    assert all("connection refused" in v.reason for v in verdicts)


def test_a_read_failing_inside_an_analyzer_is_an_error_verdict():
    class FailsOnRead(FakeMetricsSource):
        def instant(self, query, at):
            self.fail("Prometheus stopped")
            return super().instant(query, at)

    verdict = judge(HEALTH, CATALOGUE.scenario("redis-kill"), timeline(), FailsOnRead(), 1.0)
    assert verdict.status == "error"
    assert verdict.reason == "Prometheus stopped"


def test_scenario_judging_uses_the_declared_scrape_interval_when_prometheus_has_none():
    fake = FakeMetricsSource(scrape_interval=None)
    tl = timeline()
    put_histogram(fake, tl.fault, {(("job", "a"),): [0.01] * 50}, "max", matchers='path="/health"')
    verdicts = judge_scenario(CATALOGUE, CATALOGUE.scenario("redis-kill"), tl, fake)
    assert verdicts[0].status == "pass", verdicts[0].reason
    assert verdicts[0].evidence.window.start == T0 + 30


def test_the_catalogue_service_label_groups_every_analyzer_unless_it_says_otherwise():
    catalogue = parse_text(
        """\
version: 1
defaults: {service_label: service}
scenarios:
  redis-kill: {fault: {kind: container_kill, target: redis}}
objectives:
  - id: health
    rule: "8.1"
    scenarios: all
    window: fault
    analyzer: {name: response_time, params: {threshold: 1s}}
  - id: health-by-pod
    rule: "8.1"
    scenarios: all
    window: fault
    analyzer: {name: response_time, params: {threshold: 1s, by: [pod]}}
  - id: breaker
    rule: "3.4"
    scenarios: all
    window: whole
    analyzer: {name: circuit_breaker, params: {dependency: redis}}
  - id: metrics
    rule: "7.1"
    scenarios: all
    window: steady
    analyzer: {name: required_metrics}
""",
        "slas.yaml",
    )
    assert catalogue.defaults.service_label == "service"
    verdicts = judge_scenario(catalogue, catalogue.scenario("redis-kill"), timeline(), FakeMetricsSource())
    queries = {v.id: v.evidence.queries[0] for v in verdicts}
    assert queries["health"].startswith("sum by (le, service) (")
    assert queries["health-by-pod"].startswith("sum by (le, pod) (")
    assert queries["breaker"].startswith("max by (service, instance) (circuit_breaker_state")
    assert any("group by (service, instance, __name__)" in q for q in verdicts[3].evidence.queries)
