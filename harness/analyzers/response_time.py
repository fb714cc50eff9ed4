"""Rule 8.1, response-time SLAs: a latency percentile of a histogram over a window, per group.

Health checks < 1 s, API endpoints < 5 s, async acknowledgement < 1 s are three objectives of this
analyzer with different selectors. The histogram is the services' ``http_request_duration_seconds``
or the load generator's client-side one (what clients see); ``rounding`` states the client's
rounding so the resolution guard can account for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.percentile import PercentileSpec, figure, measure_percentile, percentile_trend, worst
from harness.verdict import Finding
from harness.windows import Seconds

Percentile = Literal["p50", "p90", "p95", "p99", "p999", "max"]


@dataclass(frozen=True, slots=True)
class ResponseTimeParams:
    threshold: Seconds
    percentile: Percentile = "p99"
    comparator: Literal["<", "<="] = "<"
    metric: str = "http_request_duration_seconds"
    selector: str = ""
    by: tuple[str, ...] = ("job",)
    rounding: Seconds = 0.0
    min_observations: int = 1

    def __post_init__(self) -> None:
        if self.threshold <= 0:
            raise ValueError("threshold: must be longer than zero")
        if self.min_observations < 1:
            raise ValueError("min_observations: must be at least 1")

    def spec(self) -> PercentileSpec:
        return PercentileSpec(
            self.metric,
            self.selector,
            self.percentile,
            self.comparator,
            self.threshold,
            self.by,
            self.rounding,
            self.min_observations,
        )


def describe(params: ResponseTimeParams) -> str:
    return params.spec().text()


def run(context: AnalysisContext, params: ResponseTimeParams) -> Finding:
    recorder = Recorder(context.source)
    spec = params.spec()
    results = measure_percentile(context, recorder, spec, params.percentile)
    trend = percentile_trend(context, recorder, spec) if any(r.value is not None for r in results) else ()
    figures = [f for f in (figure(r, params.percentile) for r in results) if f is not None]
    return conclude(
        [r.check for r in results],
        describe(params),
        recorder.evidence(context, figures, plot=trend, limit=params.threshold),
        "no data",
        worst([r.value for r in results if r.value is not None], params.comparator),
    )


ANALYZER = AnalyzerSpec("response_time", ResponseTimeParams, run, describe)
