"""Rule 10.3, failures must not cascade: judged over the dependency graph and the faulted service.

Services that do not depend on the faulted one, even transitively, must keep their SLAs: an error
(5xx) rate at most ``independent_max_error_rate``, API latency under ``independent_api_threshold``,
health latency under ``health_threshold``. Services that do depend on it may degrade only as the
rules allow: no hang (API latency under ``api_threshold``, the 5 s SLA), health still under 1 s, and
fallbacks rather than 5xx (error rate at most ``dependent_max_error_rate``; with
``require_fallbacks`` the direct dependents must have served fallbacks). Requests that hang are seen
by no histogram, so every service's throughput must also stay at ``min_throughput_ratio`` of its
steady-state throughput or more.

The graph is data (service -> direct dependencies), normally derived from the compose files by the
runner; a ``graph`` parameter overrides it. It must state the logical dependencies: when services
reach a dependency through a proxy, the edge goes to the dependency, not to the proxy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, DependencyGraph, Recorder, conclude
from harness.analyzers.percentile import PercentileResult, PercentileSpec, figure, measure_percentile
from harness.analyzers.response_time import Percentile
from harness.analyzers.throughput import compare_throughput
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
    min_requests: int = 1

    def __post_init__(self) -> None:
        for name in ("independent_max_error_rate", "dependent_max_error_rate", "min_throughput_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be a fraction between 0 and 1")
        if self.min_requests < 1:
            raise ValueError("min_requests: must be at least 1")


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
    label, span = params.service_label or context.service_label, window.promql_range()
    totals = _by_service(
        recorder, f"sum by ({label}) (increase({params.requests_metric}[{span}]))", window.end, label
    )
    errors = _by_service(
        recorder,
        f'sum by ({label}) (increase({params.requests_metric}{{status=~"5.."}}[{span}]))',
        window.end,
        label,
    )
    fallbacks = (
        _by_service(
            recorder,
            f'sum by ({label}) (increase(fallback_responses_total{{dependency="{faulted}"}}[{span}]))',
            window.end,
            label,
        )
        if params.require_fallbacks
        else {}
    )
    throughput = {
        dict(t.group).get(label, ""): t
        for t in compare_throughput(
            context, recorder, params.requests_metric, (label,), params.min_throughput_ratio
        )
    }
    judged = params.services or tuple(sorted(s for s in nodes if s in totals and s != faulted))
    if not judged:
        return stop(f"no service of the graph has {params.requests_metric} in window '{window.name}'")
    dependents = dependents_of(graph, faulted)
    direct = frozenset(s for s, deps in graph.items() if faulted in deps)

    def latency(selector_: str, percentile: str, limit: float, name: str) -> dict[str, PercentileResult]:
        spec = PercentileSpec(params.latency_metric, selector_, percentile, "<", limit, (label,))
        results = measure_percentile(context, recorder, spec, name)
        return {dict(r.group).get(label, ""): r for r in results}

    api_dep = latency(params.api_selector, params.api_percentile, params.api_threshold, "api")
    api_ind = latency(
        params.api_selector,
        params.api_percentile,
        params.independent_api_threshold or params.api_threshold,
        "api",
    )
    health = latency(params.health_selector, params.health_percentile, params.health_threshold, "health")

    checks: list[Check] = []
    figures: list[Figure] = []
    for name, results in (("api latency", api_dep), ("health latency", health)):
        if "" in results:  # the query as a whole gave nothing usable: no data, or the resolution guard
            checks.append(Check(name, results[""].check.status, results[""].check.detail))
    for service in judged:
        dependent = service in dependents
        role = "dependent" if dependent else "independent"
        total, failed = totals.get(service, 0.0), errors.get(service, 0.0)
        if service in throughput:
            figures.append(Figure(f"throughput_ratio[{service}]", throughput[service].ratio))
            checks.append(
                throughput[service].check(f"{service} ({role}) throughput", params.min_throughput_ratio)
            )
            if total < params.min_requests:
                continue  # nothing completed: the throughput check has said so
        if total < params.min_requests:
            checks.append(
                Check(
                    f"{service} ({role})",
                    "error",
                    f"{total:g} requests in window '{window.name}', {params.min_requests} needed",
                )
            )
            continue
        rate = failed / total
        figures.append(Figure(f"error_rate[{service}]", rate))
        limit = params.dependent_max_error_rate if dependent else params.independent_max_error_rate
        detail = f"{rate:.2%} 5xx of {total:g} requests (limit {limit:.1%})"
        if rate > limit:
            detail += ": 5xx instead of fallbacks" if dependent else ": the failure cascaded"
        checks.append(Check(f"{service} ({role}) errors", "pass" if rate <= limit else "fail", detail))
        api = (api_dep if dependent else api_ind).get(service)
        for kind, result, percentile in (
            ("api", api, params.api_percentile),
            ("health", health.get(service), params.health_percentile),
        ):
            if result is None:
                continue
            checks.append(Check(f"{service} ({role}) {kind}", result.check.status, result.check.detail))
            fig = figure(result, percentile, f"{kind}_")
            if fig is not None:
                figures.append(fig)
        if service in direct and params.require_fallbacks:
            served = fallbacks.get(service, 0.0)
            figures.append(Figure(f"fallbacks[{service}]", served))
            checks.append(
                Check(
                    f"{service} ({role}) fallbacks",
                    "pass" if served > 0 else "fail",
                    f"{served:g} fallbacks served for '{faulted}'",
                )
            )
    return conclude(checks, threshold, recorder.evidence(context, figures), "nothing was judged")


def _by_service(recorder: Recorder, query: str, at: float, label: str) -> dict[str, float]:
    return {s.label(label) or "": s.samples[0].value for s in recorder.instant(query, at) if s.samples}


ANALYZER = AnalyzerSpec("no_cascade", NoCascadeParams, run, describe, needs_fault=True)
