"""A ``promql:`` objective: one PromQL expression compared with a threshold.

``$window`` in the query stands for the window's duration as a PromQL range (``increase(x[$window])``).
Without ``aggregation`` the query is evaluated once, at the window's end. With one, it is evaluated over
the window (a range query, one point per scrape interval) and each series' points are aggregated:
``avg``, ``min``, ``max``, ``count`` (how many points the series has: the steps at which the query
answered), ``rate`` (per-second increase of a counter-like value, a drop counted as a reset, between its
first and last point) or a percentile ``p50``..``p999``/``p(N)`` (as Prometheus' ``quantile_over_time``).
Every series must meet the threshold; the measured value is the worst one. ``rounding`` states how
precisely the value is known; an answer within it of the threshold is an ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Literal

from harness.analyzers.base import MAX_POINTS, AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.percentile import PERCENTILE_SPELLING, Spelled, quantile_of, worst
from harness.metrics.port import Series
from harness.metrics.resolution import decide, scrape_guard
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds

PromqlComparator = Literal["<", "<=", ">", ">=", "==", "!=", "between"]
AGGREGATION_SPELLING = Spelled(
    rf"(avg|min|max|count|rate|{PERCENTILE_SPELLING.pattern})",
    "an aggregation over the window: avg, min, max, count, rate, or a percentile (p99, p(99.9))",
)
Aggregation = Annotated[str, AGGREGATION_SPELLING]


def decide_threshold(
    comparator: PromqlComparator, threshold: tuple[float, ...], lower: float, upper: float
) -> bool | None:
    """``harness.metrics.resolution.decide`` extended to ``!=`` and ``between`` (``threshold`` is
    ``(low, high)``, both included): True if every value in ``(lower, upper]`` meets it, False if none
    does, None if the interval straddles it."""
    match comparator:
        case "!=":
            equal = decide("==", threshold[0], lower, upper)
            return None if equal is None else not equal
        case "between":
            low, high = decide(">=", threshold[0], lower, upper), decide("<=", threshold[1], lower, upper)
            if low is False or high is False:
                return False
            return None if low is None or high is None else True
        case _:
            return decide(comparator, threshold[0], lower, upper)


@dataclass(frozen=True, slots=True)
class PromqlParams:
    query: str
    comparator: PromqlComparator
    threshold: float | tuple[float, ...]
    """One number; ``between`` takes ``[low, high]``."""
    unit: str = ""
    rounding: float = 0.0
    max_scrape_interval: Seconds | None = None
    aggregation: Aggregation | None = None

    def __post_init__(self) -> None:
        if self.rounding < 0:
            raise ValueError("rounding: must not be negative")
        pair = isinstance(self.threshold, tuple)
        if self.comparator == "between" and not (
            pair and len(self.bounds) == 2 and self.bounds[0] < self.bounds[1]
        ):
            raise ValueError("threshold: between takes [low, high] with low below high")
        if self.comparator != "between" and pair:
            raise ValueError(
                f"threshold: {self.comparator} takes one number (only between takes [low, high])"
            )

    @property
    def bounds(self) -> tuple[float, ...]:
        return self.threshold if isinstance(self.threshold, tuple) else (self.threshold,)


def describe(p: PromqlParams) -> str:
    unit = f" {p.unit}" if p.unit else ""
    over = f"{p.aggregation} over the window " if p.aggregation else ""
    if p.comparator == "between":
        return f"{over}between {p.bounds[0]:g} and {p.bounds[1]:g}{unit}"
    return f"{over}{p.comparator} {p.bounds[0]:g}{unit}"


def run(context: AnalysisContext, params: PromqlParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = scrape_guard(
        context.window, context.scrape_interval, context.min_scrapes, params.max_scrape_interval
    )
    if guard:
        return conclude([Check("resolution", "error", guard)], threshold, recorder.evidence(context, []), "")
    query = params.query.replace("$window", context.window.promql_range())
    if params.aggregation is None:
        answer = recorder.instant(query, context.window.end)
        plot: tuple[Series, ...] = ()
    else:
        step = max(context.scrape_interval or 1.0, context.window.duration / MAX_POINTS)
        answer = recorder.range(query, context.window, step)
        plot = answer
    checks, figures, values = [], [], []
    for series in answer:
        name = key_text(series.labels)
        value, problem = _value(series, params.aggregation)
        if value is None:
            checks.append(Check(name, "error", problem))
            continue
        values.append(value)
        figures.append(Figure(name, value, params.unit))
        checks.append(_check(name, value, params, threshold))
    single = params.bounds[0] if len(params.bounds) == 1 else None
    return conclude(
        checks,
        threshold,
        recorder.evidence(context, figures, plot=plot, limit=single),
        f"no data: the query answered nothing {'over' if params.aggregation else 'at the end of'} window '{context.window.name}'",
        headline(values, params),
    )


def _check(name: str, value: float, params: PromqlParams, threshold: str) -> Check:
    outcome = decide_threshold(
        params.comparator, params.bounds, value - params.rounding, value + params.rounding
    )
    shown = f"{value:g}{' ' + params.unit if params.unit else ''}"
    if outcome is None:
        return Check(name, "error", f"{shown} is within the {params.rounding:g} rounding of the threshold")
    return Check(
        name, "pass" if outcome else "fail", f"{shown} {'meets' if outcome else 'breaks'} {threshold}"
    )


def _value(series: Series, aggregation: str | None) -> tuple[float | None, str]:
    """The series' value (its aggregation over the window), or None and why there is none."""
    values = [s.value for s in series.samples]
    bad = next((v for v in values if not math.isfinite(v)), None)
    if bad is not None:
        return None, f"the query gave {bad}: nothing to compare"
    if aggregation is None:
        return values[0], ""
    if aggregation == "rate" and len(series.samples) < 2:
        return None, "rate needs two points in the window, the query answered at one"
    return aggregate(aggregation, series), ""


def aggregate(aggregation: str, series: Series) -> float:
    """``aggregation`` of a series' finite points (at least one; two for ``rate``)."""
    values = [s.value for s in series.samples]
    simple: dict[str, Callable[[list[float]], float]] = {
        "avg": lambda v: math.fsum(v) / len(v),
        "min": min,
        "max": max,
        "count": len,
    }
    if aggregation in simple:
        return simple[aggregation](values)
    if aggregation == "rate":
        samples = series.samples
        increase = math.fsum(
            b.value - a.value if b.value >= a.value else b.value for a, b in pairwise(samples)
        )
        return increase / (samples[-1].t - samples[0].t)
    return quantile_over_time(quantile_of(aggregation), values)


def quantile_over_time(q: float, values: Sequence[float]) -> float:
    """Prometheus' ``quantile_over_time`` (promql/functions.go ``quantile``): linear interpolation between
    the closest ranks, rank = q * (n - 1)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lower = max(0, math.floor(rank))
    upper = min(len(ordered) - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def headline(values: list[float], params: PromqlParams) -> float | None:
    """The worst value: for an ordering comparator the one furthest on the wrong side; for ``==`` and
    ``between`` the one furthest from the threshold's middle; for ``!=`` the one nearest to it."""
    match params.comparator:
        case "<" | "<=" | ">" | ">=" as ordering:
            return worst(values, ordering)
        case "!=":
            return min(values, key=lambda v: abs(v - params.bounds[0]), default=None)
        case _:
            middle = math.fsum(params.bounds) / len(params.bounds)
            return max(values, key=lambda v: abs(v - middle), default=None)


ANALYZER = AnalyzerSpec("promql", PromqlParams, run, describe)
