"""Rule 8.3, caching: repeated identical requests are served from the cache, a cached answer costs less
than a computed one, and a fault of the cache degrades to uncached answers, not errors.

From the services' own counts of their cache lookups by result (``lookups_metric``, label
``result_label``: the reference agents' ``agent_cache_requests_total``; Redis's own hit counts are the
server's, not a service's), per service (``by``, default the service label) that exports them, over the
objective's window (increases, as PromQL's ``increase`` over the window):

In a scenario that does not fault the cache (``cache_service``):

1. hit ratio: the lookups answered from the cache (``hit``) over those it could answer (``hit`` and
   ``miss``; a lookup the cache failed, ``error``, is neither) at least ``min_hit_ratio``. Fewer than
   ``min_lookups`` such lookups: error. Hits come only from a load that repeats identical requests within
   the cache's time to live: under a load of fresh inputs it fails, rightly saying nothing was served
   from the cache;
2. hit cost: the mean time of an answer from the cache (``duration_metric``'s ``_sum`` over ``_count``
   for ``hit``) at most ``max_hit_cost`` times that of a computed one (``miss``). Fewer than
   ``min_timed`` answers on either side: error (no mean to compare).

In a scenario that faults the cache (its faulted service is ``cache_service``):

3. degraded: lookups failed in the window (``error`` rose; none: error, the fault did not reach the
   service's cache) and the tasks that failed (``failed_metric``) are at most ``max_error_ratio`` of
   them. Counters do not say which task failed, so every failed task is counted against the failed
   lookups: an upper bound of their share that failed instead of being served uncached.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import missing_check, resolution_check, unjudged, vector
from harness.metrics.port import Labels
from harness.verdict import Check, Figure, Finding

PerResult = dict[Labels, dict[str, float]]
"""Each service's increase per value of the result label."""


@dataclass(frozen=True, slots=True)
class CachingParams:
    min_hit_ratio: float = 0.5
    max_hit_cost: float = 0.5
    """A hit's mean time as a fraction of a miss's, at most."""
    max_error_ratio: float = 0.01
    """Under a cache fault: failed tasks per failed lookup, at most."""
    min_lookups: int = 20
    min_timed: int = 5
    cache_service: str = "redis"
    """The faulted service that makes a scenario a cache fault (check 3 instead of 1 and 2)."""
    selector: str = ""
    by: tuple[str, ...] | None = None
    lookups_metric: str = "agent_cache_requests_total"
    duration_metric: str = "agent_cache_task_duration_seconds"
    failed_metric: str = "agent_tasks_failed_total"
    result_label: str = "result"
    hit: tuple[str, ...] = ("hit",)
    miss: tuple[str, ...] = ("miss", "disabled")
    """Computed answers: looked up and not found, or not looked up at all (the agents' CACHE_ENABLED=false)."""
    error: tuple[str, ...] = ("error",)

    def __post_init__(self) -> None:
        if not 0 < self.min_hit_ratio <= 1:
            raise ValueError("min_hit_ratio: a fraction above 0, at most 1")
        if not 0 < self.max_hit_cost <= 1:
            raise ValueError(
                "max_hit_cost: a fraction above 0, at most 1 (a hit may not cost more than a miss)"
            )
        if not 0 <= self.max_error_ratio < 1:
            raise ValueError("max_error_ratio: a fraction, at least 0, below 1")
        if self.min_lookups < 1 or self.min_timed < 1:
            raise ValueError("min_lookups: min_lookups and min_timed must be at least 1")
        if not (self.hit and self.miss and self.error):
            raise ValueError("hit: hit, miss and error must each name at least one result")
        named = [*self.hit, *self.miss, *self.error]
        if len(set(named)) < len(named):
            raise ValueError("hit: a result may be only one of hit, miss and error")

    def queries(self, by: tuple[str, ...], span: str) -> dict[str, str]:
        per_result = ", ".join((*by, self.result_label))

        def increase(metric: str, grouping: str) -> str:
            return f"sum by ({grouping}) (increase({vector(metric, self.selector)}[{span}]))"

        return {
            "lookups": increase(self.lookups_metric, per_result),
            "timed": increase(f"{self.duration_metric}_count", per_result),
            "seconds": increase(f"{self.duration_metric}_sum", per_result),
            "failed": increase(self.failed_metric, ", ".join(by)),
        }


def describe(p: CachingParams) -> str:
    return (
        f"repeated requests served from the cache (hit ratio at least {p.min_hit_ratio:.0%}), a hit "
        f"costing at most {p.max_hit_cost:g}x a miss; under a fault of {p.cache_service}, failed lookups "
        f"served uncached (failed tasks at most {p.max_error_ratio:.0%} of them)"
    )


def run(context: AnalysisContext, params: CachingParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = resolution_check(context)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    by = context.group_by(params.by)
    window = context.window
    queries = params.queries(by, window.promql_range())
    lookups = _per_result(recorder, queries["lookups"], window.end, by, params.result_label)
    if not lookups:
        hint = "does the selector match the services, and do they count their cache lookups?"
        return unjudged(recorder, context, threshold, [missing_check(queries["lookups"], window, hint)])
    faulted = context.faulted == params.cache_service
    checks: list[Check] = []
    figures: list[Figure] = []
    if faulted:
        failed = {
            s.key(by): s.samples[0].value
            for s in recorder.instant(queries["failed"], window.end)
            if s.samples
        }
        for key, counts in sorted(lookups.items()):
            checks.append(_degraded(key_text(key), counts, failed.get(key), params, figures))
    else:
        timed = _per_result(recorder, queries["timed"], window.end, by, params.result_label)
        seconds = _per_result(recorder, queries["seconds"], window.end, by, params.result_label)
        for key, counts in sorted(lookups.items()):
            name = key_text(key)
            checks.append(_hit_ratio(name, counts, params, figures))
            checks.append(_hit_cost(name, timed.get(key, {}), seconds.get(key, {}), params, figures))
    return conclude(checks, threshold, recorder.evidence(context, figures), "no service")


def _per_result(recorder: Recorder, query: str, at: float, by: tuple[str, ...], label: str) -> PerResult:
    out: PerResult = {}
    for series in recorder.instant(query, at):
        if series.samples:
            out.setdefault(series.key(by), {})[series.label(label) or ""] = series.samples[0].value
    return out


def _total(counts: dict[str, float], results: tuple[str, ...]) -> float:
    return sum(counts.get(r, 0.0) for r in results)


def _hit_ratio(name: str, counts: dict[str, float], p: CachingParams, figures: list[Figure]) -> Check:
    hits, misses = _total(counts, p.hit), _total(counts, p.miss)
    looked_up = hits + misses
    figures.append(Figure(f"lookups[{name}]", looked_up))
    if looked_up < p.min_lookups:
        return Check(
            f"{name} hit ratio",
            "error",
            f"{looked_up:.0f} lookups the cache could answer ({_total(counts, p.error):.0f} it failed), "
            f"fewer than {p.min_lookups}: too few to judge",
        )
    ratio = hits / looked_up
    figures.append(Figure(f"hit_ratio[{name}]", ratio))
    detail = f"{hits:.0f} of {looked_up:.0f} lookups served from the cache ({ratio:.0%})"
    if ratio >= p.min_hit_ratio:
        return Check(f"{name} hit ratio", "pass", detail)
    # per result, so a cache turned off (all `disabled`) reads apart from one that never hits
    shown = ", ".join(f"{r} {counts.get(r, 0.0):.0f}" for r in (*p.hit, *p.miss))
    return Check(
        f"{name} hit ratio",
        "fail",
        f"{detail}, below {p.min_hit_ratio:.0%} ({shown}; does the load repeat identical requests?)",
    )


def _hit_cost(
    name: str, timed: dict[str, float], seconds: dict[str, float], p: CachingParams, figures: list[Figure]
) -> Check:
    hits, misses = _total(timed, p.hit), _total(timed, p.miss)
    if hits < p.min_timed or misses < p.min_timed:
        return Check(
            f"{name} hit cost",
            "error",
            f"{hits:.0f} answers from the cache and {misses:.0f} computed were timed "
            f"({p.duration_metric}), fewer than {p.min_timed} on a side: no means to compare",
        )
    mean_hit, mean_miss = _total(seconds, p.hit) / hits, _total(seconds, p.miss) / misses
    figures.extend([Figure(f"mean_hit[{name}]", mean_hit, "s"), Figure(f"mean_miss[{name}]", mean_miss, "s")])
    detail = f"a hit takes {mean_hit * 1000:.1f} ms on average, a miss {mean_miss * 1000:.1f} ms"
    if mean_miss <= 0:
        return Check(f"{name} hit cost", "error", f"{detail}: computed answers took no measurable time")
    figures.append(Figure(f"hit_cost[{name}]", mean_hit / mean_miss))
    if mean_hit <= p.max_hit_cost * mean_miss:
        return Check(f"{name} hit cost", "pass", f"{detail} (at most {p.max_hit_cost:g}x)")
    return Check(f"{name} hit cost", "fail", f"{detail}: not cheaper by {p.max_hit_cost:g}x")


def _degraded(
    name: str, counts: dict[str, float], failed: float | None, p: CachingParams, figures: list[Figure]
) -> Check:
    errors = _total(counts, p.error)
    figures.append(Figure(f"failed_lookups[{name}]", errors))
    if errors <= 0:
        return Check(
            f"{name} degraded",
            "error",
            f"no cache lookup failed under the fault of {p.cache_service}: the fault did not reach this "
            "service's cache, or no load ran",
        )
    if failed is None:
        return Check(f"{name} degraded", "error", f"no {p.failed_metric}: failed tasks cannot be counted")
    figures.append(Figure(f"failed_tasks[{name}]", failed))
    detail = f"{errors:.0f} lookups failed, {failed:.0f} tasks failed"
    if failed <= p.max_error_ratio * errors:
        return Check(f"{name} degraded", "pass", f"{detail}: served uncached")
    return Check(
        f"{name} degraded",
        "fail",
        f"{detail} ({failed / errors:.0%} of the failed lookups, at most {p.max_error_ratio:.0%}): "
        "a cache fault fails requests instead of serving them uncached",
    )


ANALYZER = AnalyzerSpec("caching", CachingParams, run, describe)
