"""Rule 2.3, restart policies prevent restart loops: at most ``max_restarts`` restarts in any ``period``
per service, and after the last allowed attempt the container stays down.

From the harness's engine-event series (harness/events/tally.py: cAdvisor has no restart count), per
compose service (``container_label``), over the objective's window:

1. the restarts the engine made (``harness_container_restarts_total`` rising) within any ``period``
   seconds are at most ``max_restarts``; more is a restart loop (fail, naming when);
2. for the faulted service (a crash loop's target), once it crashed more often than it may restart: no
   more restarts than allowed, and down at the end of the fault window (its last exit after its last
   start). Too few crashes to exhaust the policy: error (the run cannot tell whether it would stop);
3. the delay between an exit and its restart (``harness_container_last_restart_delay_seconds``) is
   reported. Plain Docker and Compose ignore ``restart_policy.delay`` and ``.window`` (only Swarm honours
   them): the delay is judged (at least ``delay`` less ``tolerance`` before every restart) when the
   service ran as Swarm tasks (``harness_container_restart_delay_honoured`` 1: the Swarm driver) or with
   ``engine_honours_delay``; otherwise it is not judged and the verdict says so. The window is check 1's
   ``period``: at most ``max_restarts`` in any such span, which Swarm's ``window`` promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.resources import COMPOSE_SERVICE, range_data, rises, vector, when
from harness.metrics.counters import value_at
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding, Status
from harness.windows import Seconds, Window

RESTARTS = "harness_container_restarts_total"
EXITS = "harness_container_exits_total"
RESTART_DELAY = "harness_container_last_restart_delay_seconds"
LAST_START = "harness_container_last_start_timestamp_seconds"
LAST_EXIT = "harness_container_last_exit_timestamp_seconds"
HONOURED = "harness_container_restart_delay_honoured"
HINT = "is endpoints.pushgateway set, and does Prometheus scrape the Pushgateway (job harness_events)?"
IGNORED = (
    "plain Docker and Compose ignore restart_policy.delay and .window (only Swarm honours them): "
    "the delay was measured, not judged"
)


@dataclass(frozen=True, slots=True)
class RestartLimitParams:
    max_restarts: int = 3
    period: Seconds = 300.0
    delay: Seconds = 30.0
    """The policy's delay between restarts (judged only with ``engine_honours_delay``)."""
    engine_honours_delay: bool = False
    tolerance: Seconds = 1.0
    selector: str = ""
    container_label: str = COMPOSE_SERVICE

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError("max_restarts: must not be negative")
        if self.period <= 0:
            raise ValueError("period: must be longer than zero")

    def queries(self) -> dict[str, str]:
        label = self.container_label
        present = f'{label}!=""'
        # Counters summed (a stale group of a killed run only adds a constant: rises stay right),
        # timestamps and delays the latest.
        return {
            "restarts": f"sum by ({label}) ({vector(RESTARTS, present, self.selector)})",
            "exits": f"sum by ({label}) ({vector(EXITS, present, self.selector)})",
            "delay": f"max by ({label}) ({vector(RESTART_DELAY, present, self.selector)})",
            "last_start": f"max by ({label}) ({vector(LAST_START, present, self.selector)})",
            "last_exit": f"max by ({label}) ({vector(LAST_EXIT, present, self.selector)})",
            "honoured": f"max by ({label}) ({vector(HONOURED, present, self.selector)})",
        }


def describe(p: RestartLimitParams) -> str:
    delay = f", {p.delay:g} s between restarts" if p.engine_honours_delay else ", the restart delay reported"
    return f"at most {p.max_restarts} restarts in any {p.period:g} s, then down (no restart loop){delay}"


def run(context: AnalysisContext, params: RestartLimitParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    queries = params.queries()
    by = (params.container_label,)
    data = range_data(recorder, context, threshold, queries, by, ("restarts", "exits"), HINT)
    if isinstance(data, Finding):
        return data
    checks: list[Check] = []
    figures: list[Figure] = []
    for key in sorted(data["restarts"]):
        service = key[0][1]
        judge = _Judge(service, {n: data[n].get(key, ()) for n in data}, params, context)
        checks.extend(judge.checks())
        figures.extend(judge.figures)
    plot = recorder.range(queries["restarts"], context.window, context.step)
    finding = conclude(checks, threshold, recorder.evidence(context, figures, plot=plot), "no service")
    ignored = [c for c in checks if c.status == "skipped" and c.name.endswith(" delay")]
    if ignored and finding.status != "error":
        return replace(finding, reason=f"{finding.reason}; {IGNORED}")
    return finding


def from_zero(samples: Sequence[Sample], start: float, step: float) -> tuple[Sample, ...]:
    """A counter series as if it had been 0 before it appeared: a series first pushed inside the window
    (an exit code seen for the first time) starts at its first count, which ``rises`` would miss."""
    if samples and samples[0].t > start + step * 1.5:
        return (Sample(samples[0].t - step, 0.0), *samples)
    return tuple(samples)


def most_within(events: Sequence[Sample], period: float) -> tuple[float, Sample | None, Sample | None]:
    """The most events (summing each sample's count) inside any ``period`` seconds, with the first and
    last of them."""
    best: tuple[float, Sample | None, Sample | None] = (0.0, None, None)
    for i, first in enumerate(events):
        inside = [e for e in events[i:] if e.t - first.t < period]
        count = sum(e.value for e in inside)
        if count > best[0]:
            best = (count, first, inside[-1])
    return best


class _Judge:
    def __init__(
        self,
        service: str,
        data: dict[str, tuple[Sample, ...]],
        params: RestartLimitParams,
        context: AnalysisContext,
    ) -> None:
        self.service, self.data, self.p, self.context = service, data, params, context
        self.window: Window = context.window
        self.figures: list[Figure] = []

    def check(self, what: str, status: Status, detail: str) -> Check:
        return Check(f"{self.service} {what}", status, detail)

    def checks(self) -> list[Check]:
        restarts = rises(self.data["restarts"])
        total = sum(r.value for r in restarts)
        self.figures.append(Figure(f"restarts[{self.service}]", total))
        count, first, last = most_within(restarts, self.p.period)
        if count > self.p.max_restarts and first is not None and last is not None:
            span = f"from {when(first.t, self.window)} to {when(last.t, self.window)}"
            results = [
                self.check(
                    "restarts",
                    "fail",
                    f"{count:g} restarts within {self.p.period:g} s ({span}): a restart loop, "
                    f"at most {self.p.max_restarts} allowed",
                )
            ]
        else:
            results = [
                self.check("restarts", "pass", f"at most {count:g} restarts in any {self.p.period:g} s")
            ]
        if self.service == self.context.faulted:
            results.append(self._stays_down(total))
        if restarts:
            results.append(self._delay(restarts))
        return results

    def _stays_down(self, restarts: float) -> Check:
        fault = self.context.timeline.fault
        counted = from_zero(self.data["exits"], self.window.start, self.context.step)
        exits = sum(r.value for r in rises(counted))
        self.figures.append(Figure(f"exits[{self.service}]", exits))
        if fault is None or exits <= self.p.max_restarts:
            return self.check(
                "stays down",
                "error",
                f"{exits:g} exits: too few to exhaust a limit of {self.p.max_restarts} restarts, "
                "so the run cannot tell whether the restarts would stop (a longer crash loop?)",
            )
        started = value_at(self.data["last_start"], fault.end) or 0.0
        exited = value_at(self.data["last_exit"], fault.end) or 0.0
        if exited > started:
            return self.check(
                "stays down",
                "pass",
                f"down since its last exit at {when(exited, self.window)}, after {restarts:g} restarts",
            )
        return self.check(
            "stays down",
            "fail",
            f"restarted at {when(started, self.window)} after {exits:g} exits: the policy never gives up",
        )

    def _delay(self, restarts: Sequence[Sample]) -> Check:
        delays = [d for r in restarts if (d := value_at(self.data["delay"], r.t)) is not None]
        if not delays:
            return self.check("delay", "error", f"no {RESTART_DELAY} at the restarts")
        shortest = min(delays)
        self.figures.append(Figure(f"restart_delay[{self.service}]", shortest, "s"))
        detail = f"{shortest:.2f} s from an exit to its restart (the policy asks {self.p.delay:g} s)"
        swarm = any(s.value >= 1 for s in self.data.get("honoured", ()))
        if not (self.p.engine_honours_delay or swarm):
            return self.check("delay", "skipped", detail)
        if swarm:
            detail += " (Swarm tasks: the engine honours the delay)"
        ok = shortest >= self.p.delay - self.p.tolerance
        return self.check("delay", "pass" if ok else "fail", detail)


ANALYZER = AnalyzerSpec("restart_limit", RestartLimitParams, run, describe)
