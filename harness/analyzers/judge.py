"""Objective + scenario run -> Verdict: picks the window, runs the analyzer, stamps the identity.

A read that fails (Prometheus gone mid-run) becomes an ``error`` verdict naming why; an objective
whose window the scenario does not have (a baseline has no fault) is ``skipped`` with the reason.
"""

from __future__ import annotations

from types import MappingProxyType

from harness.analyzers import ANALYZERS, PROMQL
from harness.analyzers.base import AnalysisContext, DependencyGraph
from harness.bringup import BringUp
from harness.catalogue.abort import AbortCondition
from harness.catalogue.model import Catalogue, Measurement, Objective, Scenario
from harness.errors import MeasurementError
from harness.logs import LogSource
from harness.metrics.port import MetricsSource
from harness.ports import PortSource
from harness.verdict import Evidence, Finding, Verdict
from harness.windows import ScenarioTimeline

_NO_GRAPH: DependencyGraph = MappingProxyType({})


def judge_scenario(
    catalogue: Catalogue,
    scenario: Scenario,
    timeline: ScenarioTimeline,
    source: MetricsSource,
    graph: DependencyGraph = _NO_GRAPH,
    bring_up: BringUp = (),
    logs: LogSource | None = None,
    ports: PortSource | None = None,
) -> tuple[Verdict, ...]:
    """Every objective of the catalogue that applies to ``scenario``, judged over its timeline."""
    try:
        scrape = source.scrape_interval() or catalogue.defaults.prometheus.scrape_interval
    except MeasurementError as exc:
        return tuple(
            _unmeasured(o, scenario, timeline, str(exc)) for o in catalogue.objectives_for(scenario.name)
        )
    defaults = catalogue.defaults
    return tuple(
        judge(
            o,
            scenario,
            timeline,
            source,
            scrape,
            defaults.min_scrapes_per_window,
            graph,
            defaults.service_label,
            bring_up,
            logs,
            ports,
        )
        for o in catalogue.objectives_for(scenario.name)
    )


def judge(
    objective: Objective,
    scenario: Scenario,
    timeline: ScenarioTimeline,
    source: MetricsSource,
    scrape_interval: float | None,
    min_scrapes: int = 4,
    graph: DependencyGraph = _NO_GRAPH,
    service_label: str = "job",
    bring_up: BringUp = (),
    logs: LogSource | None = None,
    ports: PortSource | None = None,
) -> Verdict:
    spec = (
        PROMQL if objective.measurement.analyzer == PROMQL.name else ANALYZERS[objective.measurement.analyzer]
    )
    window = timeline.window(objective.window)
    phases = timeline.phases
    if window is None or (spec.needs_fault and scenario.fault is None):
        reason = f"scenario '{scenario.name}' has no fault" + (
            f", so no '{objective.window}' window" if window is None else f": {spec.name} needs one"
        )
        return _verdict(
            objective,
            scenario,
            Finding(
                "skipped",
                None,
                objective.measurement.threshold,
                reason,
                Evidence(window=window, phases=phases),
            ),
        )
    if window.empty:
        return _unmeasured(objective, scenario, timeline, f"window '{window.name}' is empty")
    context = AnalysisContext(
        source,
        window,
        timeline,
        scrape_interval,
        min_scrapes,
        scenario.faulted_service,
        graph,
        service_label,
        bring_up,
        logs,
        ports,
    )
    try:
        finding = spec.run(context, objective.measurement.params)
    except MeasurementError as exc:
        return _unmeasured(objective, scenario, timeline, str(exc))
    return _verdict(objective, scenario, finding)


def _unmeasured(objective: Objective, scenario: Scenario, timeline: ScenarioTimeline, reason: str) -> Verdict:
    evidence = Evidence(window=timeline.window(objective.window), phases=timeline.phases)
    finding = Finding("error", None, objective.measurement.threshold, reason, evidence)
    return _verdict(objective, scenario, finding)


def _verdict(objective: Objective, scenario: Scenario, finding: Finding) -> Verdict:
    return Verdict(
        id=objective.id,
        rule=objective.rule,
        scenario=scenario.name,
        window=objective.window,
        severity=objective.severity,
        status=finding.status,
        measured=finding.measured,
        threshold=finding.threshold,
        reason=finding.reason,
        evidence=finding.evidence,
        description=objective.description,
    )


def judge_aborted(
    catalogue: Catalogue,
    scenario: Scenario,
    timeline: ScenarioTimeline,
    condition: AbortCondition,
    reason: str,
) -> tuple[Verdict, ...]:
    """A scenario cut short by an abort condition: a failed verdict naming the condition, and every objective
    of the scenario ``skipped`` (its windows never ran their course, so judging them would mislead)."""
    abort = Objective(
        id=f"abort.{condition.name}",
        rule=condition.rule,
        description=condition.description or f"abort condition {condition.describe()}",
        scenarios=(scenario.name,),
        window="whole",
        severity="gate",
        measurement=Measurement("abort", None, condition.describe()),
    )
    queries = (condition.query,) if condition.query else ()
    evidence = Evidence(queries=queries, window=timeline.whole, phases=timeline.phases)
    verdicts = [_verdict(abort, scenario, Finding("fail", None, condition.describe(), reason, evidence))]
    for objective in catalogue.objectives_for(scenario.name):
        skipped = Evidence(window=timeline.window(objective.window), phases=timeline.phases)
        finding = Finding("skipped", None, objective.measurement.threshold, f"scenario {reason}", skipped)
        verdicts.append(_verdict(objective, scenario, finding))
    return tuple(verdicts)
