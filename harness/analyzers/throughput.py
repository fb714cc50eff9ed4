"""Throughput in a window against the steady window: the one sign of requests that hang.

A request that never completes is counted by no histogram and no status code; what shows is the
number of completed requests per second collapsing against the steady state. Shared by
``response_time`` (the histogram's ``_count``) and ``no_cascade`` (the requests counter).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, Recorder
from harness.metrics.port import Labels
from harness.verdict import Check


@dataclass(frozen=True, slots=True)
class Throughput:
    """Completed requests per second of one group, in the steady window and in the judged window."""

    group: Labels
    before: float
    now: float

    @property
    def ratio(self) -> float:
        return self.now / self.before

    def check(self, name: str, minimum_ratio: float) -> Check:
        collapsed = self.ratio < minimum_ratio
        detail = (
            f"{self.now:.3g}/s completed against {self.before:.3g}/s in steady state (at least "
            f"{minimum_ratio:.0%})"
        )
        if collapsed:
            detail += ": requests hang or are refused"
        return Check(name, "fail" if collapsed else "pass", detail)


def compare_throughput(
    context: AnalysisContext, recorder: Recorder, counter: str, by: tuple[str, ...], minimum_ratio: float
) -> list[Throughput]:
    """Per group of ``by``, for the groups that completed requests in the steady window; nothing when
    the check is off (ratio 0), when the judged window is the steady one, or when there is no steady
    window. ``counter`` is a selector of a counter, e.g. ``http_requests_total{job="x"}``."""
    steady, window = context.timeline.steady, context.window
    if minimum_ratio <= 0 or window.name == "steady" or steady.empty or window.empty:
        return []
    grouping = ", ".join(by)

    def per_second(span_of: str, at: float, duration: float) -> dict[Labels, float]:
        query = f"sum by ({grouping}) (increase({counter}[{span_of}]))"
        return {s.key(by): s.samples[0].value / duration for s in recorder.instant(query, at) if s.samples}

    before = per_second(steady.promql_range(), steady.end, steady.duration)
    now = per_second(window.promql_range(), window.end, window.duration)
    return [
        Throughput(group, rate, now.get(group, 0.0)) for group, rate in sorted(before.items()) if rate > 0
    ]
