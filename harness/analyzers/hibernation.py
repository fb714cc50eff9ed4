"""Rules 6.3 and 6.4, idle hibernation: after its idle timeout the service hibernates and releases memory,
and the first work after it is served within ``wake_within`` seconds.

For the service (``service``, default the faulted one) of an ``idle`` scenario (no load in the fault
window, the load back in the recovery window):

1. the fault window is long enough to see it: at least ``idle_timeout`` + ``tolerance`` (else error);
2. it hibernated (``hibernating_metric`` 1) ``idle_timeout`` +/- ``tolerance`` seconds into the idle window;
3. it released memory: its container's working set (cAdvisor's ``container_memory_working_set_bytes`` by
   compose service) fell by at least ``min_release`` of what it was just before hibernating;
4. it woke up once the load came back (counted from the hibernation on: the load resumes while the fault
   is reverted, a moment before recovery is marked), every wake-up within ``wake_within`` (from the
   ``wakeup_metric`` histogram: its bucket at ``wake_within`` must exist, or the check is an error).

The rule's idle timeout is 5 minutes; a scenario that shortens it through the stack's knob says so in the
verdict (``idle_timeout`` below 300 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import mean

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, selector
from harness.analyzers.resources import COMPOSE_SERVICE, mib, resolution_check, unjudged, vector
from harness.metrics.counters import increase, value_at
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window

RULE_IDLE_TIMEOUT = 300.0
SETTLE_S = 5.0
"""Seconds after hibernating before the working set is read: the release takes a moment to show."""


@dataclass(frozen=True, slots=True)
class HibernationParams:
    idle_timeout: Seconds = RULE_IDLE_TIMEOUT
    wake_within: Seconds = 30.0
    tolerance: Seconds = 10.0
    min_release: float = 0.1
    """The fraction of its working set the service must give back when it hibernates."""
    service: str = ""
    hibernating_metric: str = "agent_hibernating"
    wakeup_metric: str = "agent_wakeup_duration_seconds"
    working_set_metric: str = "container_memory_working_set_bytes"
    selector: str = ""
    container_label: str = COMPOSE_SERVICE

    def __post_init__(self) -> None:
        if self.idle_timeout <= 0 or self.wake_within <= 0:
            raise ValueError("idle_timeout: and wake_within must be longer than zero")
        if not 0 < self.min_release <= 1:
            raise ValueError("min_release: a fraction above 0, at most 1")

    def queries(self, service: str, service_label: str) -> dict[str, str]:
        own = selector(f'{service_label}="{service}"', self.selector)
        container = f'{self.container_label}="{service}"'
        return {
            "hibernating": f"max({vector(self.hibernating_metric, own)})",
            "working_set": f"max({vector(self.working_set_metric, container)})",
            "wakeups": f"sum({vector(self.wakeup_metric + '_count', own)})",
            "wake_seconds": f"sum({vector(self.wakeup_metric + '_sum', own)})",
            "buckets": f"sum by (le) ({vector(self.wakeup_metric + '_bucket', own)})",
        }


def describe(p: HibernationParams) -> str:
    return (
        f"hibernates {p.idle_timeout:g} s (+/- {p.tolerance:g} s) into idleness, gives back at least "
        f"{p.min_release:.0%} of its working set, wakes within {p.wake_within:g} s"
    )


def run(context: AnalysisContext, params: HibernationParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    fault, recovery = context.timeline.fault, context.timeline.recovery
    service = params.service or context.faulted or ""
    checks: list[Check] = []
    if fault is None or recovery is None or not service:
        checks.append(Check("fault", "error", "no idle fault (and no service named): no idleness to judge"))
    elif fault.duration < params.idle_timeout + params.tolerance:
        checks.append(
            Check(
                "idle window",
                "error",
                f"the idle window of {fault.duration:g} s is shorter than the idle timeout "
                f"{params.idle_timeout:g} s + {params.tolerance:g} s: hibernation cannot be seen",
            )
        )
    elif guard := resolution_check(context):
        checks.append(guard)
    if checks:
        return unjudged(recorder, context, threshold, checks)
    assert fault is not None and recovery is not None
    whole = context.timeline.whole
    answers = {
        n: recorder.range(q, whole, context.step)
        for n, q in params.queries(service, context.service_label).items()
    }
    series = {n: a[0].finite() if a else () for n, a in answers.items() if n != "buckets"}
    buckets = {s.label("le") or "": s.finite() for s in answers["buckets"]}
    judge = _Judge(service, series, buckets, params, fault, recovery)
    finding = conclude(
        judge.checks(), threshold, recorder.evidence(context, judge.figures, plot=answers["hibernating"]), ""
    )
    if params.idle_timeout < RULE_IDLE_TIMEOUT:
        note = (
            f"the idle timeout was shortened to {params.idle_timeout:g} s through the stack's knob "
            f"(the rule's is {RULE_IDLE_TIMEOUT:g} s)"
        )
        return replace(finding, reason=f"{finding.reason}; {note}")
    return finding


class _Judge:
    def __init__(
        self,
        service: str,
        series: dict[str, tuple[Sample, ...]],
        buckets: dict[str, tuple[Sample, ...]],
        params: HibernationParams,
        fault: Window,
        recovery: Window,
    ) -> None:
        self.service, self.series, self.buckets, self.p = service, series, buckets, params
        self.fault, self.recovery = fault, recovery
        self.figures: list[Figure] = []

    def check(self, what: str, passed: bool, detail: str) -> Check:
        return Check(f"{self.service} {what}", "pass" if passed else "fail", detail)

    def checks(self) -> list[Check]:
        name = f"{self.service} hibernates"
        if not self.series["hibernating"]:
            return [Check(name, "error", f"no {self.p.hibernating_metric} for {self.service}")]
        idle = [s for s in self.series["hibernating"] if self.fault.start <= s.t <= self.fault.end]
        asleep = next((s.t for s in idle if s.value == 1), None)
        if asleep is None:
            return [
                self.check(
                    "hibernates", False, f"did not hibernate in {self.fault.duration:.0f} s of idleness"
                )
            ]
        after = asleep - self.fault.start
        self.figures.append(Figure(f"hibernated_after[{self.service}]", after, "s"))
        on_time = abs(after - self.p.idle_timeout) <= self.p.tolerance
        detail = f"hibernated {after:.0f} s into idleness (idle timeout {self.p.idle_timeout:g} s)"
        return [self.check("hibernates", on_time, detail), self._released(asleep), self._woke(asleep)]

    def _released(self, asleep: float) -> Check:
        working = self.series["working_set"]
        before = [s.value for s in working if max(self.fault.start, asleep - 30) <= s.t < asleep]
        after = [s.value for s in working if asleep + SETTLE_S <= s.t <= self.fault.end]
        if not before or not after:
            return Check(
                f"{self.service} releases memory",
                "error",
                f"no {self.p.working_set_metric} before and after hibernating (is the container exporter scraped?)",
            )
        held, kept = mean(before), mean(after)
        released = (held - kept) / held if held > 0 else 0.0
        self.figures.append(Figure(f"memory_released[{self.service}]", released))
        detail = f"working set {mib(held)} before hibernating, {mib(kept)} after ({released:.0%} released)"
        return self.check("releases memory", released >= self.p.min_release, detail)

    def _woke(self, asleep: float) -> Check:
        """From hibernating to the end of recovery: the load resumes while the idle fault is reverted, so
        the first request (and the wake-up) may come a moment before recovery is marked."""
        name, window = f"{self.service} wakes up", Window("woken", asleep, self.recovery.end)
        count = increase(self.series["wakeups"], window.start, window.end) or 0.0
        if count == 0:
            still = value_at(self.series["hibernating"], window.end)
            if still == 1:
                return self.check(
                    "wakes up", False, "still hibernating at the end of recovery, with the load back"
                )
            return Check(
                name, "error", f"no wake-up recorded in {self.p.wakeup_metric} after the load came back"
            )
        bucket = next((s for le, s in self.buckets.items() if _bound(le) == self.p.wake_within), None)
        if bucket is None:
            return Check(
                name, "error", f"{self.p.wakeup_metric} has no bucket at {self.p.wake_within:g} s to decide"
            )
        within = increase(bucket, window.start, window.end) or 0.0
        seconds = increase(self.series["wake_seconds"], window.start, window.end) or 0.0
        self.figures.append(Figure(f"wakeup_seconds[{self.service}]", seconds / count, "s"))
        slow = count - within
        detail = f"{count:g} wake-up(s), {seconds / count:.2f} s on average, {slow:g} over {self.p.wake_within:g} s"
        return self.check("wakes up", slow == 0, detail)


def _bound(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.nan


ANALYZER = AnalyzerSpec("hibernation", HibernationParams, run, describe, needs_fault=True)
