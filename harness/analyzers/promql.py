"""A ``promql:`` objective: one PromQL expression compared with a threshold, at the window's end.

``$window`` in the query stands for the window's duration as a PromQL range (``increase(x[$window])``).
Every series of the answer must meet the threshold; the measured value is the worst one. ``rounding``
states how precisely the value is known; an answer within it of the threshold is an ``error``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.percentile import worst
from harness.metrics.resolution import Comparator, decide, scrape_guard
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds

PromqlComparator = Literal["<", "<=", ">", ">=", "==", "!=", "between"]


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
    comparator: Comparator
    threshold: float
    unit: str = ""
    rounding: float = 0.0
    max_scrape_interval: Seconds | None = None

    def __post_init__(self) -> None:
        if self.rounding < 0:
            raise ValueError("rounding: must not be negative")


def describe(p: PromqlParams) -> str:
    return f"{p.comparator} {p.threshold:g}{' ' + p.unit if p.unit else ''}"


def run(context: AnalysisContext, params: PromqlParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = scrape_guard(
        context.window, context.scrape_interval, context.min_scrapes, params.max_scrape_interval
    )
    if guard:
        return conclude([Check("resolution", "error", guard)], threshold, recorder.evidence(context, []), "")
    query = params.query.replace("$window", context.window.promql_range())
    answer = recorder.instant(query, context.window.end)
    checks, figures, values = [], [], []
    for series in answer:
        name = key_text(series.labels)
        value = series.samples[0].value
        if not math.isfinite(value):
            checks.append(Check(name, "error", f"the query gave {value}: nothing to compare"))
            continue
        values.append(value)
        figures.append(Figure(name, value, params.unit))
        outcome = decide(
            params.comparator, params.threshold, value - params.rounding, value + params.rounding
        )
        shown = f"{value:g}{' ' + params.unit if params.unit else ''}"
        if outcome is None:
            checks.append(
                Check(name, "error", f"{shown} is within the {params.rounding:g} rounding of the threshold")
            )
        else:
            checks.append(
                Check(
                    name,
                    "pass" if outcome else "fail",
                    f"{shown} {'meets' if outcome else 'breaks'} {threshold}",
                )
            )
    return conclude(
        checks,
        threshold,
        recorder.evidence(context, figures, limit=params.threshold),
        f"no data: the query answered nothing at the end of window '{context.window.name}'",
        worst(values, params.comparator) if params.comparator != "==" else (values[0] if values else None),
    )


ANALYZER = AnalyzerSpec("promql", PromqlParams, run, describe)
