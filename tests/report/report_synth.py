"""Synthetic verdicts for the report's browser test: 3 scenarios x 4 objectives, as a real run has them.

Several verdicts of one objective in different scenarios carry the same window, threshold and measured
value (a compliant run's error ratio is 0 everywhere; a run whose Prometheus died measured nothing), the
case Allure would fold into retries of one test if a verdict's identity were its objective alone.
"""

from __future__ import annotations

from harness.metrics.port import Sample, Series
from harness.reports import ReportStep
from harness.verdict import Check, Evidence, Figure, Verdict
from harness.windows import PhaseMarks, ScenarioTimeline

T0 = 1_795_000_000.0
SCENARIOS = ("redis-kill", "postgres-pause", "ollama-latency")
BREAKER_QUERY = 'max by (service, instance) (circuit_breaker_state{dependency="redis"})'
BREAKER_REASON = "agent-orchestrator/orchestrator:10100 failures at open: opened after 10 consecutive failures, expected exactly 5"
STATES = ("closed", "open", "half-open")


def _timeline(index: int) -> ScenarioTimeline:
    start = T0 + index * 1000
    return ScenarioTimeline.from_marks(PhaseMarks(start, start + 135, start + 30, start + 90))


def _breaker_series(timeline: ScenarioTimeline, service: str, opens_after: float) -> Series:
    fault = timeline.fault
    assert fault is not None
    opened, half_open, closed = fault.start + opens_after, fault.start + opens_after + 30, fault.end + 5
    samples = []
    for t in range(int(timeline.whole.start), int(timeline.whole.end) + 1, 5):
        state = 1.0 if opened <= t < half_open else 2.0 if half_open <= t < closed else 0.0
        samples.append(Sample(float(t), state))
    return Series((("service", service), ("instance", f"{service}:10100")), tuple(samples))


def _verdict(scenario: str, objective: str, status: str, **fields: object) -> Verdict:
    timeline = _timeline(SCENARIOS.index(scenario))
    defaults: dict[str, object] = {
        "rule": "3.4",
        "window": "whole",
        "severity": "gate",
        "measured": None,
        "threshold": "< 1 %",
        "reason": "",
        "evidence": Evidence(window=timeline.whole, phases=timeline.phases),
        "description": f"{objective} in {scenario}",
    }
    defaults.update(fields)
    return Verdict(objective, scenario=scenario, status=status, **defaults)  # type: ignore[arg-type]


def breaker(scenario: str, failing: bool) -> Verdict:
    timeline = _timeline(SCENARIOS.index(scenario))
    series = (
        _breaker_series(timeline, "agent-orchestrator", 12 if failing else 5),
        _breaker_series(timeline, "agent-summarizer", 5),
    )
    evidence = Evidence(
        queries=(BREAKER_QUERY, 'sum by (service, instance) (dependency_requests_total{dependency="redis"})'),
        window=timeline.whole,
        phases=timeline.phases,
        figures=(Figure("failures_at_open[agent-orchestrator]", 10 if failing else 5),),
        checks=(
            Check("agent-orchestrator failures at open", "fail" if failing else "pass", "opened after 10"),
            Check("agent-summarizer failures at open", "pass", "opened after 5 consecutive failures"),
        ),
        samples=series,
        plot=series,
        states=STATES,
    )
    status, reason = ("fail", BREAKER_REASON) if failing else ("pass", "every breaker opened after 5")
    return _verdict(
        scenario,
        "breaker-redis",
        status,
        measured=evidence.figures,
        reason=reason,
        evidence=evidence,
        threshold="opens after exactly 5 consecutive failures",
    )


def verdicts() -> list[Verdict]:
    """12 verdicts: health-latency and gateway-errors pass with one measured value everywhere,
    breaker-redis fails in one scenario, queue-depth is an error (nothing measured) everywhere."""
    made = []
    for scenario in SCENARIOS:
        made += [
            _verdict(scenario, "health-latency", "pass", measured=0.25, threshold="p99 < 1 s", reason="fine"),
            _verdict(scenario, "gateway-errors", "pass", measured=0.0, reason="no 5xx"),
            breaker(scenario, failing=scenario == "redis-kill"),
            _verdict(scenario, "queue-depth", "error", reason="Prometheus did not answer"),
        ]
    return made


def steps() -> dict[str, list[ReportStep]]:
    """What the runner did in each scenario, shown as a step of each of its verdicts."""
    made = {}
    for index, scenario in enumerate(SCENARIOS):
        fault = _timeline(index).fault
        assert fault is not None
        service = scenario.split("-")[0]
        made[scenario] = [
            ReportStep(f"fault: {scenario} (proven: {service} affected)", fault.start, fault.end)
        ]
    return made
