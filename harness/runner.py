"""Run one chaos scenario and judge it: steady -> fault -> hold -> revert -> recovery, load throughout.

The runner is the one place where stack, fault, load and measurement meet; it knows none of them by
their implementation, only by their ports (Stack, Fault, LoadDriver, MetricsSource), so the pytest
plugin and the tests can hand it fakes. Durations come from slas.yaml; the only waits are the windows
themselves and polls with deadlines (stack health, the final scrape).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.analyzers.judge import judge_aborted, judge_scenario
from harness.bringup import BringUp
from harness.catalogue.model import Catalogue, Scenario
from harness.errors import MeasurementError
from harness.faults.base import Fault, FaultError, applied
from harness.faults.journal import Journal
from harness.faults.lifecycle import IDLE, LoadPause
from harness.load.driver import LoadDriver, LoadProgress, running
from harness.load.health import void_client_side
from harness.logs import LogSource
from harness.metrics.port import MetricsSource
from harness.ports import PortSource
from harness.reports import ReportStep
from harness.reports.run_record import ScenarioRecord
from harness.safeguards import Safeguard, ScenarioAborted
from harness.verdict import Verdict
from harness.windows import PhaseClock, PhaseMarks

PROGRESS_EVERY_S = 5.0
SAFEGUARD_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    record: ScenarioRecord
    verdicts: tuple[Verdict, ...]


class Progress:
    """One line on the terminal every few seconds: phase, fault in force, load rate and errors."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def line(
        self, scenario: str, phase: str, elapsed: float, total: float, fault: str, load: LoadProgress
    ) -> None:
        self.say(
            f"[{scenario}] {phase:<8} {elapsed:5.0f}/{total:.0f}s | fault: {fault} | "
            f"load {load.rps:6.1f} req/s, {load.failures} failures, {load.users} users"
        )


class Runner:
    def __init__(
        self,
        catalogue: Catalogue,
        source: MetricsSource,
        load: LoadDriver,
        make_fault: Callable[[Scenario], Fault],
        wait_ready: Callable[[], None],
        graph: Mapping[str, frozenset[str]],
        journal: Journal,
        progress: Progress,
        run_id: str,
        bring_up: BringUp = (),
        logs: LogSource | None = None,
        ports: PortSource | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.source = source
        self.load = load
        self.make_fault = make_fault
        self.wait_ready = wait_ready
        self.graph = graph
        self.journal = journal
        self.progress = progress
        self.run_id = run_id
        self.bring_up = bring_up
        self.logs = logs
        self.ports = ports

    def run(self, scenario: Scenario) -> ScenarioResult:
        steps: list[ReportStep] = []
        started = time.time()
        self.wait_ready()
        steps.append(ReportStep("stack healthy", started, time.time(), detail="every service healthy"))

        windows = scenario.windows
        total = windows.steady + (windows.fault + windows.recovery if scenario.fault else 0.0)
        clock = PhaseClock()
        aborted: ScenarioAborted | None = None
        load_started = time.time()
        safeguard = Safeguard(scenario.abort, self.source)
        # The load stops when the block ends; its own time bound (duration + the driver's slack) is a backstop.
        with running(self.load, scenario.load, total, f"{self.run_id}-{scenario.name}") as load:
            hold = _Hold(self.progress, scenario, clock.start(), total, load.progress, safeguard)
            try:
                self._play(scenario, clock, hold, steps)
            except ScenarioAborted as exc:  # the fault was reverted on the way out of applied()
                aborted = exc
                steps.append(
                    ReportStep(f"aborted: {exc.condition.name}", time.time(), time.time(), "fail", str(exc))
                )
            timeline = clock.finish()
        summary = load.summary
        assert summary is not None  # running() sets it on leaving the block
        steps.append(
            ReportStep(
                f"load: {scenario.load.users} users, {scenario.load.rate:g} req/s target",
                load_started,
                time.time(),
                status="pass" if summary.requests and not summary.lost else "error",
                detail=f"{summary.requests} requests, {summary.failures} failures, {summary.rps:.1f} req/s"
                + "".join(f"; lost: {loss.describe()}" for loss in summary.lost),
            )
        )
        self._await_final_scrape(timeline.whole.end)
        if aborted is not None:
            verdicts = judge_aborted(self.catalogue, scenario, timeline, aborted.condition, str(aborted))
        else:
            verdicts = judge_scenario(
                self.catalogue,
                scenario,
                timeline,
                self.source,
                self.graph,
                self.bring_up,
                self.logs,
                self.ports,
            )
        verdicts = void_client_side(verdicts, self.catalogue, timeline, summary.lost)
        fault_window = timeline.fault
        marks = PhaseMarks(
            timeline.whole.start,
            timeline.whole.end,
            fault_window.start if fault_window else None,
            fault_window.end if fault_window else None,
        )
        record = ScenarioRecord(scenario.name, marks, tuple(steps))
        return ScenarioResult(record, verdicts)

    def _play(self, scenario: Scenario, clock: PhaseClock, hold: _Hold, steps: list[ReportStep]) -> None:
        """Steady; then the fault proven, held, reverted, and recovery, the abort conditions polled throughout."""
        windows = scenario.windows
        hold("steady", windows.steady, "none", guarded=False)
        if scenario.fault is None:
            return
        fault = self._fault(scenario)
        fault_started = time.time()
        with applied(fault, self.journal):
            clock.fault_started()
            hold("fault", windows.fault, fault.describe(), guarded=True)
            if not fault.in_force():
                # Judging now would credit the system with surviving a fault it did not face.
                raise FaultError(f"{fault.describe()} was undone before its window ended")
        clock.fault_ended()
        steps.append(
            ReportStep(
                f"fault: {fault.describe()}",
                fault_started,
                time.time(),
                detail="injected, proven in force, still in force at the window's end, reverted",
            )
        )
        hold("recovery", windows.recovery, "reverted", guarded=True)

    def _fault(self, scenario: Scenario) -> Fault:
        assert scenario.fault is not None
        if scenario.fault.kind == IDLE:  # the load is the runner's: it pauses it itself
            run_id = f"{self.run_id}-{scenario.name}-resumed"
            return LoadPause(
                scenario.fault.target, self.load, scenario.load, scenario.windows.recovery, run_id
            )
        return self.make_fault(scenario)

    def _await_final_scrape(self, end: float) -> None:
        """Judge only once Prometheus has scraped past the end of the last window."""
        try:
            interval = self.source.scrape_interval() or self.catalogue.defaults.prometheus.scrape_interval
        except MeasurementError:
            # Unreachable now: the judge turns every objective into an `error` verdict that says so.
            interval = self.catalogue.defaults.prometheus.scrape_interval
        delay = end + 2 * interval - time.time()
        if delay > 0:
            time.sleep(delay)


@dataclass(frozen=True, slots=True)
class _Hold:
    """Lets a window run its course, saying how it goes every few seconds and, when guarded, polling the
    scenario's abort conditions every second."""

    reporter: Progress
    scenario: Scenario
    origin: float
    total: float
    progress: Callable[[], LoadProgress]
    safeguard: Safeguard

    def __call__(self, phase: str, duration: float, fault: str, guarded: bool) -> None:
        guarded = guarded and bool(self.safeguard)
        deadline = time.monotonic() + duration
        said = time.monotonic()
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(SAFEGUARD_EVERY_S if guarded else PROGRESS_EVERY_S, left))
            if guarded:
                self.safeguard.check(time.time())
            if time.monotonic() - said >= PROGRESS_EVERY_S or time.monotonic() >= deadline:
                said = time.monotonic()
                elapsed = time.time() - self.origin
                self.reporter.line(self.scenario.name, phase, elapsed, self.total, fault, self.progress())
