"""Throughput in a window against the steady window: the one sign of requests that hang.

A request that never completes is counted by no histogram and no status code; what shows is the
number of completed requests per second collapsing against the steady state. Shared by
``response_time`` (the histogram's ``_count``) and ``no_cascade`` (the requests counter).

A service may also complete fewer requests because its callers send it fewer, which is no fault of
its own; when the demand they offer is known (a ``Throughput`` of calls made, ``demand``), the
steady throughput is scaled by it before the comparison.
"""

from __future__ import annotations

import math
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
    demand: Throughput | None = None
    """Calls per second its callers offered in the same two windows, when known."""

    @property
    def expected(self) -> float:
        """The steady throughput, scaled by the change in demand when the demand is known."""
        if self.demand is None:
            return self.before
        return self.before * self.demand.now / self.demand.before

    @property
    def ratio(self) -> float:
        """Completed against expected; infinite when nothing was expected (the callers sent nothing)."""
        return self.now / self.expected if self.expected > 0 else math.inf

    def check(self, name: str, minimum_ratio: float) -> Check:
        collapsed = self.ratio < minimum_ratio
        if self.demand is None:
            against = f"{self.before:.3g}/s in steady state"
        else:
            against = (
                f"{self.expected:.3g}/s expected ({self.before:.3g}/s in steady state scaled by the demand "
                f"its callers offered, {self.demand.now:.3g}/s against {self.demand.before:.3g}/s)"
            )
        detail = f"{self.now:.3g}/s completed against {against} (at least {minimum_ratio:.0%})"
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
