"""Rules 6.1, 6.2 and 6.4, graceful shutdown: on SIGTERM (the ``sigterm`` fault: ``docker stop`` with the
container's own grace, then a start) the service finishes, saves its state and exits 0 within its grace
period, and restores that state when it starts again.

For the service (``service``, default the faulted one), over the timeline up to the fault window's end:

1. its exit, from the harness's engine-event series (``harness_container_exits_total{exit_code}``
   rising): 0 passes; 137 is the SIGKILL at the end of the grace period (fail); any other code fails;
2. the time from the stop signal to the exit (``harness_container_last_stop_duration_seconds``) within the
   grace (``grace``, default the container's own: ``harness_container_stop_timeout_seconds``);
3. after the start, the state restored (``restored_metric`` 1 at the last scrape of the fault window);
4. that state saved at this stop: the restored state's save time (``saved_at_metric``) is not before the
   stop signal (a state from an earlier periodic save does not count). ``saved_at_metric: ""`` for a
   service that does not export one: the check is then ``skipped``, and says so;
5. no request the service had accepted lost, from the stop signal to the fault window's end: the load's
   failures by kind (``failures_metric``, ``locust_request_failures_total{kind}`` from load/failures.py)
   show no rise of ``kind="lost"``; ``kind="refused"`` (never taken: refused while down) is reported
   apart and fails nothing. ``failures_metric: ""`` for a load that does not classify: ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, selector
from harness.analyzers.resources import (
    COMPOSE_SERVICE,
    missing_check,
    resolution_check,
    rises,
    unjudged,
    vector,
    when,
)
from harness.analyzers.restart_limit import from_zero
from harness.metrics.counters import increase, value_at
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window

EXITS = "harness_container_exits_total"
STOP_DURATION = "harness_container_last_stop_duration_seconds"
STOP_TIMEOUT = "harness_container_stop_timeout_seconds"
LAST_EXIT = "harness_container_last_exit_timestamp_seconds"
SIGKILLED = "137"
HINT = "is endpoints.pushgateway set, and did the sigterm fault stop the service?"


@dataclass(frozen=True, slots=True)
class GracefulShutdownParams:
    service: str = ""
    """The compose service; empty: the scenario's faulted service."""
    grace: Seconds | None = None
    """The grace period; None: the container's own (``harness_container_stop_timeout_seconds``)."""
    restored_metric: str = "agent_state_restored"
    saved_at_metric: str = "agent_state_restored_saved_timestamp_seconds"
    selector: str = ""
    """Extra matchers for the service's own series."""
    container_label: str = COMPOSE_SERVICE
    failures_metric: str = "locust_request_failures_total"
    """The load's failed requests by ``kind`` (refused, lost, rejected); empty: not judged."""
    load_selector: str = 'job="locust"'
    """Matchers for the load's series (all its requests by default: a loss anywhere counts)."""


def describe(p: GracefulShutdownParams) -> str:
    grace = f"{p.grace:g} s" if p.grace is not None else "its grace period"
    lost = ", loses no accepted request" if p.failures_metric else ""
    return f"on SIGTERM exits 0 within {grace}, saves its state, restores it on start{lost}"


def queries(p: GracefulShutdownParams, service: str, service_label: str) -> dict[str, str]:
    container = f'{p.container_label}="{service}"'
    own = selector(f'{service_label}="{service}"', p.selector)
    found = {
        "exits": f"sum by (exit_code) ({vector(EXITS, container)})",
        "stop_duration": f"max({vector(STOP_DURATION, container)})",
        "stop_timeout": f"max({vector(STOP_TIMEOUT, container)})",
        "last_exit": f"max({vector(LAST_EXIT, container)})",
        "restored": f"max({vector(p.restored_metric, own)})",
    }
    if p.saved_at_metric:
        found["saved_at"] = f"max({vector(p.saved_at_metric, own)})"
    if p.failures_metric:
        found["failures"] = f"sum by (kind) ({vector(p.failures_metric, p.load_selector)})"
    return found


def run(context: AnalysisContext, params: GracefulShutdownParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    fault, whole = context.timeline.fault, context.timeline.whole
    service = params.service or context.faulted or ""
    if fault is None or not service:
        check = Check("fault", "error", "no sigterm fault (and no service named): nothing stopped to judge")
        return unjudged(recorder, context, threshold, [check])
    guard = resolution_check(context)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    asked = queries(params, service, context.service_label)
    span = Window("until the fault's end", whole.start, fault.end)
    data = {name: recorder.range(query, span, context.step) for name, query in asked.items()}
    exits = [
        (s.label("exit_code") or "unknown", e)
        for s in data["exits"]
        for e in rises(from_zero(s.finite(), span.start, context.step))
    ]
    if not exits:
        check = (
            missing_check(asked["exits"], span, HINT)
            if not data["exits"]
            else Check("exit", "error", f"service {service} did not exit before the fault's end: {HINT}")
        )
        return unjudged(recorder, context, threshold, [check])
    by_kind = {s.label("kind"): s.finite() for s in data.get("failures", ())}
    series = {
        name: answer[0].finite() if answer else ()
        for name, answer in data.items()
        if name not in ("exits", "failures")
    }
    judge = _Judge(service, series, by_kind, params, span)
    checks = judge.checks(max(exits, key=lambda item: item[1].t))
    plot = data.get("restored", ())
    return conclude(checks, threshold, recorder.evidence(context, judge.figures, plot=plot), "")


class _Judge:
    def __init__(
        self,
        service: str,
        series: dict[str, tuple[Sample, ...]],
        failures: dict[str | None, tuple[Sample, ...]],
        params: GracefulShutdownParams,
        span: Window,
    ) -> None:
        self.service, self.series, self.failures, self.p, self.span = service, series, failures, params, span
        self.figures: list[Figure] = []

    def checks(self, exit_: tuple[str, Sample]) -> list[Check]:
        code, seen = exit_[0], exit_[1].t
        self.figures.append(Figure(f"exit_code[{self.service}]", float(code) if code.isdigit() else -1.0))
        # The scrape that showed the exit came up to a push and a scrape later: the engine's own time of it
        exited = value_at(self.series["last_exit"], seen) or seen
        duration = value_at(self.series["stop_duration"], seen)
        grace = self.p.grace if self.p.grace is not None else value_at(self.series["stop_timeout"], seen)
        checks = [self._exit(code, exited, grace), self._within_grace(duration, grace)]
        after = tuple(s for s in self.series["restored"] if s.t > seen)
        checks.append(self._restored(after))
        stopped = exited - (duration or 0.0)
        checks.append(self._saved(stopped, seen))
        checks.append(self._nothing_lost(stopped))
        return checks

    def _exit(self, code: str, at: float, grace: float | None) -> Check:
        name, moment = f"{self.service} exit", when(at, self.span)
        if code == "0":
            return Check(name, "pass", f"exited 0 at {moment}")
        if code == SIGKILLED:
            period = f"{grace:g} s " if grace is not None else ""
            return Check(
                name, "fail", f"SIGKILLed at the end of its {period}grace period (exit 137) at {moment}"
            )
        return Check(name, "fail", f"exited {code} at {moment}, not 0")

    def _within_grace(self, duration: float | None, grace: float | None) -> Check:
        name = f"{self.service} stop duration"
        if duration is None or grace is None:
            return Check(name, "error", f"no {STOP_DURATION} or grace period: how long it took is unknown")
        self.figures.append(Figure(f"stop_duration[{self.service}]", duration, "s"))
        detail = f"{duration:.2f} s from the stop signal to the exit (grace {grace:g} s)"
        return Check(name, "pass" if duration <= grace else "fail", detail)

    def _restored(self, after: tuple[Sample, ...]) -> Check:
        name = f"{self.service} state restored"
        if not after:
            return Check(name, "error", f"no {self.p.restored_metric} after the start")
        final = after[-1].value
        self.figures.append(Figure(f"state_restored[{self.service}]", final))
        if final == 1:
            return Check(name, "pass", "state restored at the start")
        return Check(name, "fail", f"{self.p.restored_metric} is {final:g} after the start: it started empty")

    def _saved(self, stopped: float, exited: float) -> Check:
        name = f"{self.service} state saved at the stop"
        if not self.p.saved_at_metric:
            return Check(
                name, "skipped", "no saved_at_metric: whether the stop saved the state is not measured"
            )
        after = [s for s in self.series.get("saved_at", ()) if s.t > exited]
        if not after:
            return Check(name, "error", f"no {self.p.saved_at_metric} after the start")
        saved = after[-1].value
        if saved >= stopped - 1.0:  # one second: the two clocks are the host's and the container's
            return Check(
                name, "pass", f"the restored state was saved at {when(saved, self.span)}, at the stop"
            )
        saved_when = f"was saved at {when(saved, self.span)}" if saved > 0 else "has no save time"
        return Check(
            name, "fail", f"the restored state {saved_when}, before the stop: the stop did not save it"
        )

    def _nothing_lost(self, stopped: float) -> Check:
        """From the stop signal to the fault window's end: a request refused while the service was down
        was never its to lose; one it had taken and did not answer was lost."""
        name = f"{self.service} accepted requests lost"
        if not self.p.failures_metric:
            return Check(name, "skipped", "no failures_metric: lost requests are not measured")
        since = f"from the stop signal ({when(stopped, self.span)}) to the fault window's end"
        lost_series = self.failures.get("lost", ())
        lost = increase(lost_series, stopped, self.span.end)
        if lost is None or not any(stopped < s.t <= self.span.end for s in lost_series):
            return Check(
                name,
                "error",
                f'no {self.p.failures_metric}{{kind="lost"}} {since}: does the load push its failures '
                "by kind (load/pushmetrics.py) to endpoints.pushgateway?",
            )
        refused = increase(self.failures.get("refused", ()), stopped, self.span.end)
        self.figures.append(Figure(f"requests_lost[{self.service}]", lost))
        if refused is not None:
            self.figures.append(Figure(f"requests_refused[{self.service}]", refused))
        apart = (
            f"{refused:g} refused while down (never taken: not a loss)"
            if refused is not None
            else "refused while down: not exported"
        )
        if lost > 0:
            return Check(name, "fail", f"{lost:g} lost after they were accepted {since}; {apart}")
        return Check(name, "pass", f"none lost after accepted {since}; {apart}")


ANALYZER = AnalyzerSpec("graceful_shutdown", GracefulShutdownParams, run, describe, needs_fault=True)
