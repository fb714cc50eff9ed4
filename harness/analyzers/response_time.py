"""Rule 8.1, response-time SLAs: a latency percentile of a histogram over a window, per group.

Health checks < 1 s, API endpoints < 5 s, async acknowledgement < 1 s are three objectives of this
analyzer with different selectors. The histogram is the services' ``http_request_duration_seconds``
or the load generator's client-side one (what clients see); ``rounding`` states the client's
rounding so the resolution guard can account for it. A request that hangs is in no histogram, so
outside the steady window each group's completed requests per second must also stay at
``min_throughput_ratio`` of the steady state or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.percentile import (
    Percentile,
    PercentileSpec,
    figure,
    measure_percentile,
    percentile_trend,
    worst,
)
from harness.analyzers.throughput import compare_throughput
from harness.verdict import Figure, Finding
from harness.windows import Seconds


@dataclass(frozen=True, slots=True)
class ResponseTimeParams:
    threshold: Seconds
    percentile: Percentile = "p99"
    comparator: Literal["<", "<="] = "<"
    metric: str = "http_request_duration_seconds"
    selector: str = ""
    by: tuple[str, ...] | None = None
    rounding: Seconds = 0.0
    min_observations: int = 1
    min_throughput_ratio: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_throughput_ratio <= 1.0:
            raise ValueError("min_throughput_ratio: must be a fraction between 0 and 1")
        if self.threshold <= 0:
            raise ValueError("threshold: must be longer than zero")
        if self.min_observations < 1:
            raise ValueError("min_observations: must be at least 1")

    def spec(self, by: tuple[str, ...]) -> PercentileSpec:
        return PercentileSpec(
            self.metric,
            self.selector,
            self.percentile,
            self.comparator,
            self.threshold,
            by,
            self.rounding,
            self.min_observations,
        )


def describe(params: ResponseTimeParams) -> str:
    return params.spec(()).text()


def run(context: AnalysisContext, params: ResponseTimeParams) -> Finding:
    recorder = Recorder(context.source)
    by = context.group_by(params.by)
    spec = params.spec(by)
    results = measure_percentile(context, recorder, spec, params.percentile)
    checks = [r.check for r in results]
    figures = [f for f in (figure(r, params.percentile) for r in results) if f is not None]
    counter = f"{params.metric}_count{{{params.selector}}}"
    for item in compare_throughput(context, recorder, counter, by, params.min_throughput_ratio):
        suffix = f"[{key_text(item.group)}]" if item.group else ""
        checks.append(item.check(f"throughput{suffix}", params.min_throughput_ratio))
        figures.append(Figure(f"throughput_ratio{suffix}", item.ratio))
    trend = percentile_trend(context, recorder, spec) if any(r.value is not None for r in results) else ()
    return conclude(
        checks,
        describe(params),
        recorder.evidence(context, figures, plot=trend, limit=params.threshold),
        "no data",
        worst([r.value for r in results if r.value is not None], params.comparator),
    )


ANALYZER = AnalyzerSpec("response_time", ResponseTimeParams, run, describe)
