"""A latency percentile over a window, from a histogram, judged with the resolution guard.

Shared by ``response_time`` and ``no_cascade``. PromQL computes the percentile; Python recomputes it
from the same bucket increases to learn the bucket it lies in, and to check PromQL (a disagreement is
an error, not a guess). The true percentile lies in that bucket, widened by the client's rounding;
when that interval straddles the threshold, the check is an ``error``: the buckets cannot decide it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from harness.analyzers.base import AnalysisContext, Recorder, key_text
from harness.metrics.histogram import (
    PERCENTILES,
    Bucket,
    bucket_increase_query,
    buckets_from_series,
    estimate_quantile,
    quantile_query,
)
from harness.metrics.port import Labels, Series
from harness.metrics.resolution import Comparator, decide, scrape_guard
from harness.verdict import Check, Figure

_AGREEMENT = 1e-6


@dataclass(frozen=True, slots=True)
class Spelled:
    """The forms a string parameter takes (``harness.catalogue.reader.Spelling``)."""

    pattern: str
    expected: str


# p(N): at most four decimals, so that q = N/100 has the six significant digits PromQL is sent (:g).
_P_OF_N = r"p\((100(\.0{1,4})?|\d{1,2}(\.\d{1,4})?)\)"
PERCENTILE_SPELLING = Spelled(
    rf"(p50|p90|p95|p99|p999|max|{_P_OF_N})",
    "a percentile: p50, p90, p95, p99, p999, max, or p(N) with N from 0 to 100 (like p(99.9), p(42))",
)
Percentile = Annotated[str, PERCENTILE_SPELLING]


def quantile_of(percentile: str) -> float:
    """The quantile of a percentile spelled as ``PERCENTILE_SPELLING`` allows: ``p(99.9)`` -> 0.999."""
    if percentile in PERCENTILES:
        return PERCENTILES[percentile]
    # Decimal: 99.9 / 100 in binary floating point is 0.9990000000000001.
    return float(Decimal(percentile[2:-1]) / 100)


@dataclass(frozen=True, slots=True)
class PercentileSpec:
    """Which histogram, which percentile, against what, grouped by which labels."""

    metric: str
    matchers: str
    percentile: str
    comparator: Comparator
    threshold: float
    by: tuple[str, ...] = ()
    rounding: float = 0.0
    min_observations: int = 1

    def text(self) -> str:
        return f"{self.percentile} {self.comparator} {self.threshold:g} s"


@dataclass(frozen=True, slots=True)
class PercentileResult:
    group: Labels
    check: Check
    value: float | None


def _fmt_bound(x: float) -> str:
    return "+Inf" if math.isinf(x) else f"{x:g}"


def measure_percentile(
    context: AnalysisContext, recorder: Recorder, spec: PercentileSpec, name: str
) -> list[PercentileResult]:
    """One result per group of ``spec.by`` found in the window (an error result if none is)."""
    window = context.window
    guard = scrape_guard(window, context.scrape_interval, context.min_scrapes)
    if guard:
        return [PercentileResult((), Check(name, "error", guard), None)]
    q = quantile_of(spec.percentile)
    span = window.promql_range()
    bucket_series = recorder.instant(
        bucket_increase_query(spec.metric, spec.matchers, span, spec.by), window.end
    )
    promql = {
        s.key(spec.by): s.samples[0].value
        for s in recorder.instant(quantile_query(q, spec.metric, spec.matchers, span, spec.by), window.end)
    }
    groups: dict[Labels, list[Series]] = {}
    for series in bucket_series:
        groups.setdefault(series.key(spec.by), []).append(series)
    if not groups:
        where = f"{spec.metric}_bucket{{{spec.matchers}}}"
        return [
            PercentileResult(
                (), Check(name, "error", f"no samples of {where} in window '{window.name}'"), None
            )
        ]
    return [
        _judge(name, group, buckets_from_series(members), promql.get(group), q, spec)
        for group, members in sorted(groups.items())
    ]


def _judge(
    name: str,
    group: Labels,
    buckets: tuple[Bucket, ...],
    promql: float | None,
    q: float,
    spec: PercentileSpec,
) -> PercentileResult:
    label = f"{name}[{key_text(group)}]" if group else name
    estimate = estimate_quantile(q, buckets)
    if estimate is None:
        return PercentileResult(
            group, Check(label, "error", "no observations in the window (or no +Inf bucket)"), None
        )
    if estimate.observations < spec.min_observations:
        detail = f"only {estimate.observations:g} observations, {spec.min_observations} needed"
        return PercentileResult(group, Check(label, "error", detail), None)
    if promql is None or not math.isclose(promql, estimate.value, rel_tol=_AGREEMENT, abs_tol=_AGREEMENT):
        detail = f"PromQL gave {promql} but the buckets give {estimate.value:g}: cannot trust either"
        return PercentileResult(group, Check(label, "error", detail), None)
    lower, upper = estimate.lower - spec.rounding, estimate.upper + spec.rounding
    outcome = decide(spec.comparator, spec.threshold, lower, upper)
    where = f"{spec.percentile} = {promql:g} s in bucket ({_fmt_bound(estimate.lower)}, {_fmt_bound(estimate.upper)}]"
    if spec.rounding:
        where += f" +/- {spec.rounding:g} s rounding"
    where += f" over {estimate.observations:g} observations"
    if outcome is None:
        detail = f"{where}: threshold {spec.threshold:g} s falls inside, the buckets cannot decide it"
        return PercentileResult(group, Check(label, "error", detail), promql)
    verb = "meets" if outcome else "breaks"
    return PercentileResult(
        group, Check(label, "pass" if outcome else "fail", f"{where} {verb} {spec.text()}"), promql
    )


def percentile_trend(
    context: AnalysisContext, recorder: Recorder, spec: PercentileSpec
) -> tuple[Series, ...]:
    """The percentile over the whole scenario, each point over the last 4 scrapes: for the timeline
    plot only, never for the decision."""
    span = f"{max(1, round(4 * context.step * 1000))}ms"
    query = quantile_query(quantile_of(spec.percentile), spec.metric, spec.matchers, span, spec.by)
    return tuple(s for s in recorder.range(query, context.timeline.whole, context.step) if s.finite())


def worst(values: list[float], comparator: Comparator) -> float | None:
    """The value furthest on the wrong side of a comparator: max for < and <=, min for > and >=."""
    if not values:
        return None
    return min(values) if comparator in (">", ">=") else max(values)


def figure(result: PercentileResult, percentile: str, prefix: str = "") -> Figure | None:
    if result.value is None:
        return None
    suffix = f"[{key_text(result.group)}]" if result.group else ""
    return Figure(f"{prefix}{percentile}{suffix}", result.value, "s")
