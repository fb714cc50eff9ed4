"""Rule 3.4, circuit breakers, as a state machine over the scenario's timeline.

For every service instance with a breaker on the faulted dependency (or with failed calls to it):

1. closed before the fault (else the run cannot judge it: error);
2. opened during the fault (a service whose calls failed, or stopped completing, but whose breaker
   never opened: fail);
3. opened after exactly ``failure_threshold`` consecutive failures (``circuit_breaker_last_open_failures``);
4. stayed open until it half-opened, short-circuiting calls and serving fallbacks meanwhile;
5. half-opened ``half_open_after`` +/- ``tolerance`` seconds after each opening, from the exact
   transition timestamps the service exports (the scrape interval cannot resolve them);
6. closed again by the end of the recovery window.

A check the run was too short to observe is an ``error``, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text, selector
from harness.metrics.counters import increase, value_at
from harness.metrics.port import Sample
from harness.metrics.resolution import scrape_guard
from harness.verdict import Check, Figure, Finding, Status
from harness.windows import Seconds, Window

CLOSED, OPEN, HALF_OPEN = 0.0, 1.0, 2.0
STATES = ("closed", "open", "half-open")  # circuit_breaker_state's value is the index
_STATE_NAMES = {float(value): name for value, name in enumerate(STATES)}


@dataclass(frozen=True, slots=True)
class CircuitBreakerParams:
    dependency: str
    failure_threshold: int = 5
    half_open_after: Seconds = 30.0
    tolerance: Seconds = 2.0
    selector: str = ""
    by: tuple[str, ...] | None = None
    require_close: bool = True

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold: must be at least 1")
        if self.half_open_after <= 0:
            raise ValueError("half_open_after: must be longer than zero")
        if self.tolerance <= 0:
            raise ValueError("tolerance: must be longer than zero (state the tolerance you accept)")


def describe(p: CircuitBreakerParams) -> str:
    text = (
        f"opens after exactly {p.failure_threshold} consecutive failures, serves fallbacks while open, "
        f"half-opens {p.half_open_after:g} s +/- {p.tolerance:g} s after opening"
    )
    return text + (", closes after recovery" if p.require_close else "")


@dataclass(frozen=True, slots=True)
class _Instance:
    """One instance's series, each over the whole timeline."""

    state: tuple[Sample, ...]
    open_failures: tuple[Sample, ...]
    opened_total: tuple[Sample, ...]
    opened_at: tuple[Sample, ...]
    half_open_at: tuple[Sample, ...]
    fallbacks: tuple[Sample, ...]
    short_circuits: tuple[Sample, ...]
    failures: tuple[Sample, ...]
    calls: tuple[Sample, ...]


def queries(p: CircuitBreakerParams, group_by: tuple[str, ...]) -> dict[str, str]:
    dep = selector(f'dependency="{p.dependency}"', p.selector)
    by = ", ".join(group_by)
    short_circuited = selector(dep, 'outcome="short_circuited"')
    failed = selector(dep, 'outcome="failure"')
    return {
        "state": f"max by ({by}) (circuit_breaker_state{{{dep}}})",
        "open_failures": f"max by ({by}) (circuit_breaker_last_open_failures{{{dep}}})",
        "opened_total": f"sum by ({by}) (circuit_breaker_opened_total{{{dep}}})",
        "opened_at": f"max by ({by}) (circuit_breaker_last_opened_timestamp_seconds{{{dep}}})",
        "half_open_at": f"max by ({by}) (circuit_breaker_last_half_open_timestamp_seconds{{{dep}}})",
        "fallbacks": f"sum by ({by}) (fallback_responses_total{{{dep}}})",
        "short_circuits": f"sum by ({by}) (dependency_requests_total{{{short_circuited}}})",
        "failures": f"sum by ({by}) (dependency_requests_total{{{failed}}})",
        "calls": f"sum by ({by}) (dependency_requests_total{{{dep}}})",
    }


def run(context: AnalysisContext, params: CircuitBreakerParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    whole, fault = context.timeline.whole, context.timeline.fault
    if fault is None or fault.empty:
        check = Check("fault", "error", "the scenario has no fault window: a breaker cannot be judged")
        return conclude([check], threshold, recorder.evidence(context, []), "")
    guard = scrape_guard(whole, context.scrape_interval, context.min_scrapes, timing=params.tolerance)
    if guard:
        return conclude([Check("resolution", "error", guard)], threshold, recorder.evidence(context, []), "")
    by = context.group_by(params.by, "instance")
    raw = {name: recorder.range(query, whole, context.step) for name, query in queries(params, by).items()}
    answers = {name: {s.key(by): s.samples for s in series} for name, series in raw.items()}
    keys = sorted(set(answers["state"]) | set(answers["failures"]))
    checks: list[Check] = []
    figures: list[Figure] = []
    for key in keys:
        instance = _Instance(**{name: answers[name].get(key, ()) for name in answers})
        judge = _Judge(key_text(key), instance, params, fault, whole, context.step)
        checks.extend(judge.checks())
        figures.extend(judge.figures)
    return conclude(
        checks,
        threshold,
        recorder.evidence(context, figures, plot=raw["state"], states=STATES),
        f"no circuit_breaker_state or dependency_requests_total for dependency '{params.dependency}'",
    )


class _Judge:
    """The checks of one instance; collects the measured figures on the way."""

    def __init__(
        self,
        name: str,
        data: _Instance,
        params: CircuitBreakerParams,
        fault: Window,
        whole: Window,
        step: float,
    ) -> None:
        self.name, self.data, self.p = name, data, params
        self.fault, self.whole, self.step = fault, whole, step
        self.figures: list[Figure] = []

    def check(self, what: str, status: Status, detail: str) -> Check:
        return Check(f"{self.name} {what}", status, detail)

    def figure(self, what: str, value: float, unit: str = "") -> None:
        self.figures.append(Figure(f"{what}[{self.name}]", value, unit))

    def checks(self) -> list[Check]:
        d, p, fault = self.data, self.p, self.fault
        failed_calls = increase(d.failures, fault.start, fault.end) or 0.0
        self.figure("failed_calls_during_fault", failed_calls)
        if not d.state:
            return [
                self.check(
                    "breaker",
                    "fail",
                    f"no circuit_breaker_state for '{p.dependency}' although "
                    f"{failed_calls:g} calls to it failed during the fault",
                )
            ]
        before = [s for s in d.state if s.t < fault.start]
        if any(s.value != CLOSED for s in before):
            return [
                self.check(
                    "before fault",
                    "error",
                    "the breaker was not closed before the fault: "
                    "the steady state does not hold, the run cannot judge the breaker",
                )
            ]
        opens = sorted({s.value for s in d.opened_at if fault.start - self.step <= s.value <= self.whole.end})
        first_in_fault = [o for o in opens if o <= fault.end]
        if not first_in_fault:
            return [self._never_opened(failed_calls)]
        self.figure("opens", len(opens))
        results = [self._failures_at_open(first_in_fault[0])]
        half_opens = sorted({s.value for s in d.half_open_at})
        cycles = [(o, next((h for h in half_opens if h > o), None)) for o in opens]
        for index, (opened, half_open) in enumerate(cycles):
            check = self._half_open(index, opened, half_open)
            # A later cycle cut off by the end of the run proves nothing either way; the first must be seen.
            if index == 0 or check.status != "error":
                results.append(check)
        results.extend(self._while_open(*cycles[0]))
        if p.require_close:
            results.append(self._closed_at_end(opens[-1]))
        return results

    def _never_opened(self, failed_calls: float) -> Check:
        d, fault = self.data, self.fault
        open_seen = any(s.value == OPEN for s in d.state if fault.start <= s.t <= fault.end)
        opened_count = increase(d.opened_total, fault.start, fault.end) or 0.0
        if open_seen or opened_count > 0:
            return self.check(
                "opened",
                "error",
                "the breaker opened but circuit_breaker_last_opened_timestamp"
                "_seconds has no value from the fault window: the timing cannot be judged",
            )
        if failed_calls > 0:
            return self.check(
                "opened",
                "fail",
                f"never opened during the fault although {failed_calls:g} "
                f"calls to '{self.p.dependency}' failed",
            )
        completed = increase(d.calls, fault.start, fault.end) or 0.0
        before = increase(d.calls, self.whole.start, fault.start) or 0.0
        if completed == 0 and before > 0:
            # Calls that neither succeed nor fail are hanging: without a timeout no failure is ever
            # counted, so the breaker cannot open.
            return self.check(
                "opened",
                "fail",
                f"never opened: no call to '{self.p.dependency}' completed during the fault ({before:g} did "
                "before it), they hang instead of failing (no timeout?)",
            )
        return self.check(
            "opened",
            "error",
            f"no failed calls to '{self.p.dependency}' during the fault: the "
            "fault did not reach this service, or no load ran",
        )

    def _failures_at_open(self, opened: float) -> Check:
        times = [s.t for s in self.data.opened_at if s.value == opened]
        counted = value_at(self.data.open_failures, times[0]) if times else None
        if counted is None:
            return self.check(
                "failures at open", "error", "no circuit_breaker_last_open_failures at the opening"
            )
        self.figure("failures_at_open", counted)
        n = self.p.failure_threshold
        if counted == n:
            return self.check("failures at open", "pass", f"opened after {counted:g} consecutive failures")
        return self.check(
            "failures at open", "fail", f"opened after {counted:g} consecutive failures, expected exactly {n}"
        )

    def _half_open(self, index: int, opened: float, half_open: float | None) -> Check:
        p, what = self.p, f"half-open #{index + 1}"
        expected, tol = p.half_open_after, p.tolerance
        if half_open is None:
            observed = self.whole.end - opened
            if observed >= expected + tol + self.step:
                return self.check(
                    what,
                    "fail",
                    f"did not half-open within {expected + tol:g} s of opening (watched {observed:.1f} s)",
                )
            return self.check(
                what,
                "error",
                f"the run ended {observed:.1f} s after the breaker opened: too "
                f"short to see a half-open at {expected:g} s",
            )
        delay = half_open - opened
        if index == 0:
            self.figure("half_open_delay", delay, "s")
        status: Status = "pass" if abs(delay - expected) <= tol else "fail"
        return self.check(
            what, status, f"half-opened {delay:.2f} s after opening (expected {expected:g} s +/- {tol:g} s)"
        )

    def _while_open(self, opened: float, half_open: float | None) -> list[Check]:
        d, end = self.data, half_open if half_open is not None else self.whole.end
        fallbacks = increase(d.fallbacks, opened, end)
        shorts = increase(d.short_circuits, opened, end)
        self.figure("fallbacks_served", fallbacks or 0.0)
        self.figure("short_circuited", shorts or 0.0)
        reopened_early = [
            s for s in d.state if opened + self.step < s.t < end - self.step and s.value == CLOSED
        ]
        checks = []
        if reopened_early:
            checks.append(
                self.check(
                    "stays open",
                    "fail",
                    f"closed again {reopened_early[0].t - opened:.1f} s after opening without half-opening",
                )
            )
        if not fallbacks and not shorts:
            checks.append(
                self.check(
                    "while open",
                    "error",
                    "no call reached the open breaker (no short-circuits, "
                    "no fallbacks): no load, cannot judge",
                )
            )
        elif not fallbacks:
            checks.append(
                self.check(
                    "fallbacks",
                    "fail",
                    f"no fallback responses while open ({shorts:g} calls short-circuited)",
                )
            )
        elif not shorts:
            checks.append(
                self.check(
                    "short-circuit",
                    "fail",
                    f"{fallbacks:g} fallbacks but no call was short-circuited: the breaker did not stay open",
                )
            )
        else:
            checks.append(
                self.check(
                    "while open", "pass", f"{shorts:g} calls short-circuited, {fallbacks:g} fallbacks served"
                )
            )
        return checks

    def _closed_at_end(self, last_open: float) -> Check:
        final = self.data.state[-1]
        self.figure("final_state", final.value)
        if final.value == CLOSED:
            return self.check("closes", "pass", f"closed {final.t - self.fault.end:.1f} s into recovery")
        state = _STATE_NAMES.get(final.value, str(final.value))
        deadline = last_open + self.p.half_open_after + self.p.tolerance + 2 * self.step
        if self.whole.end >= deadline:
            return self.check(
                "closes",
                "fail",
                f"still {state} at the end of recovery, "
                f"{self.whole.end - self.fault.end:.1f} s after the dependency came back",
            )
        return self.check(
            "closes",
            "error",
            f"still {state}: recovery ended {self.whole.end - last_open:.1f} s "
            "after the last opening, too soon to see it close",
        )


ANALYZER = AnalyzerSpec("circuit_breaker", CircuitBreakerParams, run, describe, needs_fault=True)
