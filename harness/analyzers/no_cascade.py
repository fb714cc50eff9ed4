"""Rule 10.3, failures must not cascade: judged over the dependency graph and the faulted service.

Services that do not depend on the faulted one, even transitively, must keep their SLAs: an error
(5xx) rate at most ``independent_max_error_rate``, API latency under ``independent_api_threshold``,
health latency under ``health_threshold``. Services that do depend on it may degrade only as the
rules allow: no hang (API latency under ``api_threshold``, the 5 s SLA), health still under 1 s, and
fallbacks rather than 5xx (error rate at most ``dependent_max_error_rate``; with
``require_fallbacks`` the direct dependents must have served fallbacks). Requests that hang are seen
by no histogram, so every service's throughput must also stay at ``min_throughput_ratio`` of its
steady-state throughput or more.

An independent service is judged only on the degradation it causes itself. When some of its callers
(the services that depend on it directly) are the faulted service or its dependents, they may send it
less work, so its throughput is judged against the demand they offer: the steady throughput scaled by
the calls they made (``demand_metric``, by the callee's name in ``demand_label``) in the window against
the steady window. Without such a demand series its throughput is not judged (a ``skipped`` check
says so) and only its latency and errors are. Dependents keep the plain comparison: a dependent that
hangs slows its own callers, so a fall in their demand cannot clear it.

The graph is data (service -> direct dependencies), normally derived from the compose files by the
runner; a ``graph`` parameter overrides it. It must state the logical dependencies: when services
reach a dependency through a proxy, the edge goes to the dependency, not to the proxy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from harness.analyzers.base import (
    AnalysisContext,
    AnalyzerSpec,
    DependencyGraph,
    Recorder,
    conclude,
    selector,
)
from harness.analyzers.percentile import PercentileResult, PercentileSpec, figure, measure_percentile
from harness.analyzers.response_time import Percentile
from harness.analyzers.throughput import Throughput, compare_throughput
from harness.metrics.resolution import scrape_guard
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds


@dataclass(frozen=True, slots=True)
class NoCascadeParams:
    faulted: str | None = None
    graph: Mapping[str, frozenset[str]] | None = None
    services: tuple[str, ...] = ()
    service_label: str | None = None
    latency_metric: str = "http_request_duration_seconds"
    requests_metric: str = "http_requests_total"
    api_selector: str = 'path=~"/api/.*"'
    health_selector: str = 'path="/health"'
    api_percentile: Percentile = "p99"
    health_percentile: Percentile = "max"
    api_threshold: Seconds = 5.0
    independent_api_threshold: Seconds | None = None
    health_threshold: Seconds = 1.0
    independent_max_error_rate: float = 0.01
    dependent_max_error_rate: float = 0.01
    require_fallbacks: bool = False
    min_throughput_ratio: float = 0.5
    demand_metric: str = "dependency_requests_total"
    demand_label: str = "dependency"
    demand_selector: str = 'outcome!="short_circuited"'
    """Short-circuited calls never reach the callee: they are no demand on it."""
    min_requests: int = 1

    def __post_init__(self) -> None:
        for name in ("independent_max_error_rate", "dependent_max_error_rate", "min_throughput_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be a fraction between 0 and 1")
        if self.min_requests < 1:
            raise ValueError("min_requests: must be at least 1")
        for name in ("demand_metric", "demand_label"):
            if not getattr(self, name):
                raise ValueError(f"{name}: must not be empty")

    @property
    def demand_counter(self) -> str:
        matchers = selector(self.demand_selector)
        return f"{self.demand_metric}{{{matchers}}}" if matchers else self.demand_metric


def describe(p: NoCascadeParams) -> str:
    independent = p.independent_api_threshold or p.api_threshold
    return (
        f"independent services: 5xx <= {p.independent_max_error_rate:.1%}, API {p.api_percentile} < "
        f"{independent:g} s; dependents: 5xx <= {p.dependent_max_error_rate:.1%}, API {p.api_percentile} < "
        f"{p.api_threshold:g} s; health {p.health_percentile} < {p.health_threshold:g} s for all"
    )


def dependents_of(graph: DependencyGraph, faulted: str) -> frozenset[str]:
    """Every service that depends on ``faulted`` directly or transitively."""
    found: set[str] = set()
    frontier = {faulted}
    while frontier:
        frontier = {s for s, deps in graph.items() if deps & frontier and s not in found}
        found |= frontier
    found.discard(faulted)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Place:
    """Where one judged service stands against the fault."""

    service: str
    dependent: bool
    direct: bool
    affected_callers: frozenset[str]
    """Its direct callers that are the faulted service or its dependents: they may send it less."""

    @property
    def role(self) -> str:
        return "dependent" if self.dependent else "independent"


def places(graph: DependencyGraph, faulted: str, services: tuple[str, ...]) -> tuple[Place, ...]:
    """Each service's place: dependent or not, directly or not, and which of its callers the fault reaches."""
    dependents = dependents_of(graph, faulted)
    reached = dependents | {faulted}

    def place(service: str) -> Place:
        callers = frozenset(c for c, deps in graph.items() if service in deps and c in reached)
        direct = faulted in graph.get(service, frozenset())
        return Place(service, service in dependents, direct, callers)

    return tuple(place(s) for s in services)


@dataclass(frozen=True, slots=True)
class _Counts:
    """The window's counters, per service."""

    totals: Mapping[str, float]
    errors: Mapping[str, float]
    fallbacks: Mapping[str, float]
    served: Mapping[str, Throughput]
    offered: Mapping[str, Throughput]
    """Calls the callers made to each service (``demand_metric``), keyed by the callee."""


@dataclass(frozen=True, slots=True)
class _Latencies:
    """The window's latency percentiles, per service."""

    api_dependent: Mapping[str, PercentileResult]
    api_independent: Mapping[str, PercentileResult]
    health: Mapping[str, PercentileResult]


def run(context: AnalysisContext, params: NoCascadeParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    graph = params.graph if params.graph is not None else context.graph
    faulted = params.faulted or context.faulted
    window = context.window

    def stop(reason: str) -> Finding:
        return conclude([Check("no cascade", "error", reason)], threshold, recorder.evidence(context, []), "")

    if faulted is None:
        return stop("no faulted service: the scenario has no fault target and no 'faulted' parameter")
    nodes = set(graph) | {d for deps in graph.values() for d in deps}
    if faulted not in nodes:
        return stop(f"faulted service '{faulted}' is not in the dependency graph ({len(nodes)} services)")
    guard = scrape_guard(window, context.scrape_interval, context.min_scrapes)
    if guard:
        return stop(guard)
    label = params.service_label or context.service_label
    counts = _count(context, recorder, params, faulted, label)
    judged = params.services or tuple(sorted(s for s in nodes if s in counts.totals and s != faulted))
    if not judged:
        return stop(f"no service of the graph has {params.requests_metric} in window '{window.name}'")
    latencies = _measure_latencies(context, recorder, params, label)
    checks: list[Check] = []
    figures: list[Figure] = []
    for name, results in (("api latency", latencies.api_dependent), ("health latency", latencies.health)):
        if "" in results:  # the query as a whole gave nothing usable: no data, or the resolution guard
            checks.append(Check(name, results[""].check.status, results[""].check.detail))
    for place in places(graph, faulted, judged):
        more_checks, more_figures = _judge(place, counts, latencies, params, context, faulted)
        checks += more_checks
        figures += more_figures
    return conclude(checks, threshold, recorder.evidence(context, figures), "nothing was judged")


def _count(
    context: AnalysisContext, recorder: Recorder, params: NoCascadeParams, faulted: str, label: str
) -> _Counts:
    span, end = context.window.promql_range(), context.window.end

    def by_service(counter: str) -> dict[str, float]:
        return _by_service(recorder, f"sum by ({label}) (increase({counter}[{span}]))", end, label)

    def throughput(counter: str, by: str) -> dict[str, Throughput]:
        found = compare_throughput(context, recorder, counter, (by,), params.min_throughput_ratio)
        return {dict(t.group).get(by, ""): t for t in found}

    fallbacks = f'fallback_responses_total{{dependency="{faulted}"}}'
    return _Counts(
        totals=by_service(params.requests_metric),
        errors=by_service(f'{params.requests_metric}{{status=~"5.."}}'),
        fallbacks=by_service(fallbacks) if params.require_fallbacks else {},
        served=throughput(params.requests_metric, label),
        offered=throughput(params.demand_counter, params.demand_label),
    )


def _measure_latencies(
    context: AnalysisContext, recorder: Recorder, params: NoCascadeParams, label: str
) -> _Latencies:
    def latency(selector_: str, percentile: str, limit: float, name: str) -> dict[str, PercentileResult]:
        spec = PercentileSpec(params.latency_metric, selector_, percentile, "<", limit, (label,))
        results = measure_percentile(context, recorder, spec, name)
        return {dict(r.group).get(label, ""): r for r in results}

    independent = params.independent_api_threshold or params.api_threshold
    return _Latencies(
        api_dependent=latency(params.api_selector, params.api_percentile, params.api_threshold, "api"),
        api_independent=latency(params.api_selector, params.api_percentile, independent, "api"),
        health=latency(params.health_selector, params.health_percentile, params.health_threshold, "health"),
    )


_Judged = tuple[list[Check], list[Figure]]


def _judge(
    place: Place,
    counts: _Counts,
    latencies: _Latencies,
    params: NoCascadeParams,
    context: AnalysisContext,
    faulted: str,
) -> _Judged:
    """One service's checks: throughput, then (if it completed requests) errors, latencies, fallbacks."""
    checks, figures = _throughput(place, counts, params)
    total = counts.totals.get(place.service, 0.0)
    if total < params.min_requests:
        if any(c.status != "skipped" for c in checks):
            return checks, figures  # nothing completed: the throughput check has said so
        detail = f"{total:g} requests in window '{context.window.name}', {params.min_requests} needed"
        return [*checks, Check(f"{place.service} ({place.role})", "error", detail)], figures
    for more_checks, more_figures in (
        _errors(place, counts, params, total),
        _latency(place, latencies, params),
        _fallbacks(place, counts, params, faulted),
    ):
        checks += more_checks
        figures += more_figures
    return checks, figures


def _errors(place: Place, counts: _Counts, params: NoCascadeParams, total: float) -> _Judged:
    rate = counts.errors.get(place.service, 0.0) / total
    limit = params.dependent_max_error_rate if place.dependent else params.independent_max_error_rate
    detail = f"{rate:.2%} 5xx of {total:g} requests (limit {limit:.1%})"
    if rate > limit:
        detail += ": 5xx instead of fallbacks" if place.dependent else ": the failure cascaded"
    check = Check(f"{place.service} ({place.role}) errors", "pass" if rate <= limit else "fail", detail)
    return [check], [Figure(f"error_rate[{place.service}]", rate)]


def _latency(place: Place, latencies: _Latencies, params: NoCascadeParams) -> _Judged:
    api = latencies.api_dependent if place.dependent else latencies.api_independent
    checks: list[Check] = []
    figures: list[Figure] = []
    for kind, result, percentile in (
        ("api", api.get(place.service), params.api_percentile),
        ("health", latencies.health.get(place.service), params.health_percentile),
    ):
        if result is None:
            continue
        checks.append(
            Check(f"{place.service} ({place.role}) {kind}", result.check.status, result.check.detail)
        )
        fig = figure(result, percentile, f"{kind}_")
        if fig is not None:
            figures.append(fig)
    return checks, figures


def _fallbacks(place: Place, counts: _Counts, params: NoCascadeParams, faulted: str) -> _Judged:
    if not (place.direct and params.require_fallbacks):
        return [], []
    served = counts.fallbacks.get(place.service, 0.0)
    check = Check(
        f"{place.service} ({place.role}) fallbacks",
        "pass" if served > 0 else "fail",
        f"{served:g} fallbacks served for '{faulted}'",
    )
    return [check], [Figure(f"fallbacks[{place.service}]", served)]


def _throughput(place: Place, counts: _Counts, params: NoCascadeParams) -> _Judged:
    """Throughput against the steady window; for an independent service whose callers the fault
    reaches, against the demand they offered, and not judged (``skipped``) when that is unknown."""
    served = counts.served.get(place.service)
    if served is None:
        return [], []
    name = f"{place.service} ({place.role}) throughput"
    if not place.dependent and place.affected_callers:
        demand = counts.offered.get(place.service)
        if demand is None:
            callers = ", ".join(sorted(place.affected_callers))
            detail = (
                f"not judged: the fault reaches its callers ({callers}), which may send it less, and no "
                f'{params.demand_counter} with {params.demand_label}="{place.service}" in the steady window '
                "says what they offered; only its latency and errors are judged"
            )
            return [Check(name, "skipped", detail)], []
        served = replace(served, demand=demand)
    figures = (
        [Figure(f"throughput_ratio[{place.service}]", served.ratio)] if math.isfinite(served.ratio) else []
    )
    return [served.check(name, params.min_throughput_ratio)], figures


def _by_service(recorder: Recorder, query: str, at: float, label: str) -> dict[str, float]:
    return {s.label(label) or "": s.samples[0].value for s in recorder.instant(query, at) if s.samples}


ANALYZER = AnalyzerSpec("no_cascade", NoCascadeParams, run, describe, needs_fault=True)
