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

from harness.analyzers.judge import judge_scenario
from harness.catalogue.model import Catalogue, Scenario
from harness.errors import MeasurementError
from harness.faults.base import Fault, FaultError, applied
from harness.faults.journal import Journal
from harness.load.driver import LoadDriver, LoadProgress, running
from harness.metrics.port import MetricsSource
from harness.reports import ReportStep
from harness.reports.run_record import ScenarioRecord
from harness.verdict import Verdict
from harness.windows import PhaseClock, PhaseMarks

PROGRESS_EVERY_S = 5.0


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

    def run(self, scenario: Scenario) -> ScenarioResult:
        steps: list[ReportStep] = []
        started = time.time()
        self.wait_ready()
        steps.append(ReportStep("stack healthy", started, time.time(), detail="every service healthy"))

        windows = scenario.windows
        total = windows.steady + (windows.fault + windows.recovery if scenario.fault else 0.0)
        clock = PhaseClock()
        load_started = time.time()
        # The load stops when the block ends; its own time bound (duration + the driver's slack) is a backstop.
        with running(self.load, scenario.load, total, f"{self.run_id}-{scenario.name}") as load:
            origin = clock.start()
            self._hold(scenario, "steady", windows.steady, origin, total, "none", load.progress)
            if scenario.fault is not None:
                fault = self.make_fault(scenario)
                fault_started = time.time()
                with applied(fault, self.journal):
                    clock.fault_started()
                    self._hold(
                        scenario, "fault", windows.fault, origin, total, fault.describe(), load.progress
                    )
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
                self._hold(scenario, "recovery", windows.recovery, origin, total, "reverted", load.progress)
            timeline = clock.finish()
        summary = load.summary
        assert summary is not None  # running() sets it on leaving the block
        steps.append(
            ReportStep(
                f"load: {scenario.load.users} users, {scenario.load.rate:g} req/s target",
                load_started,
                time.time(),
                status="pass" if summary.requests else "error",
                detail=f"{summary.requests} requests, {summary.failures} failures, {summary.rps:.1f} req/s",
            )
        )
        self._await_final_scrape(timeline.whole.end)
        verdicts = judge_scenario(self.catalogue, scenario, timeline, self.source, self.graph)
        fault_window = timeline.fault
        marks = PhaseMarks(
            timeline.whole.start,
            timeline.whole.end,
            fault_window.start if fault_window else None,
            fault_window.end if fault_window else None,
        )
        record = ScenarioRecord(scenario.name, marks, tuple(steps))
        return ScenarioResult(record, verdicts)

    def _hold(
        self,
        scenario: Scenario,
        phase: str,
        duration: float,
        origin: float,
        total: float,
        fault: str,
        progress: Callable[[], LoadProgress],
    ) -> None:
        """Let a window run its course, saying how it goes every few seconds."""
        deadline = time.monotonic() + duration
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(PROGRESS_EVERY_S, left))
            self.progress.line(scenario.name, phase, time.time() - origin, total, fault, progress())

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
