"""The runner over the packaged fakes: phases in order, the fault in force exactly during its window,
load throughout, the judge handed the recorded timeline, and every fault reverted on interruption."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import runner as runner_module
from harness.analyzers.judge import judge_scenario
from harness.catalogue.model import Catalogue, Scenario
from harness.catalogue.parse import parse_text
from harness.faults.base import FaultError
from harness.faults.build import build_fault
from harness.faults.fake import FakeContainer, FakeStack
from harness.faults.journal import Journal
from harness.load.fake import FakeLoad
from harness.metrics.fake import FakeMetricsSource
from harness.runner import Progress, Runner
from harness.windows import ScenarioTimeline

CATALOGUE = """
version: 1
defaults:
  windows: {steady: 200ms, fault: 300ms, recovery: 200ms}
scenarios:
  calm: {windows: {steady: 200ms}}
  pause-db:
    fault: {kind: container_pause, target: db}
objectives:
  - id: health
    rule: "8.1"
    scenarios: all
    window: whole
    analyzer: {name: response_time, params: {threshold: 1s}}
"""


class Recorder:
    def __init__(self, db: FakeContainer) -> None:
        self.db = db
        self.lines: list[tuple[str, bool]] = []  # (phase, db paused?) at each progress line

    def say(self, line: str) -> None:
        phase = line.split("]", 1)[1].split()[0]
        self.lines.append((phase, self.db.attrs["State"]["Paused"]))


@dataclass
class Rig:
    runner: Runner
    catalogue: Catalogue
    db: FakeContainer
    recorder: Recorder
    load: FakeLoad
    judged: list[tuple[str, ScenarioTimeline]]
    ready: list[str]
    journal: Path


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    catalogue = parse_text(CATALOGUE, "slas.yaml")
    db = FakeContainer("db")
    stack = FakeStack(db)
    recorder = Recorder(db)
    judged: list[tuple[str, ScenarioTimeline]] = []
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(
        runner_module,
        "judge_scenario",
        lambda cat, scenario, timeline, source, graph, bring_up, logs, ports: (
            judged.append((scenario.name, timeline)) or ()
        ),
    )
    load = FakeLoad()
    ready: list[str] = []

    def make_fault(scenario: Scenario):
        assert scenario.fault is not None
        return build_fault(scenario.fault, stack, "http://127.0.0.1:9")

    runner = Runner(
        catalogue=catalogue,
        source=FakeMetricsSource(scrape_interval=0.05),
        load=load,
        make_fault=make_fault,
        wait_ready=lambda: ready.append("ready"),
        graph={},
        journal=Journal(tmp_path / "journal.json"),
        progress=Progress(recorder.say),
        run_id="unit",
    )
    return Rig(runner, catalogue, db, recorder, load, judged, ready, tmp_path / "journal.json")


def test_fault_is_in_force_exactly_during_its_window(rig: Rig) -> None:
    result = rig.runner.run(rig.catalogue.scenario("pause-db"))

    assert rig.ready == ["ready"]
    phases = [phase for phase, _ in rig.recorder.lines]
    assert phases == sorted(phases, key=["steady", "fault", "recovery"].index)
    assert {paused for phase, paused in rig.recorder.lines if phase == "fault"} == {True}
    assert {paused for phase, paused in rig.recorder.lines if phase != "fault"} == {False}
    assert [c for c in rig.db.calls if c != "reload"] == ["pause", "unpause"]
    assert rig.load.calls == ["start unit-pause-db", "stop"]

    marks = result.record.marks
    assert marks.fault_start is not None and marks.fault_end is not None
    assert marks.steady_start < marks.fault_start < marks.fault_end < marks.end
    assert marks.fault_end - marks.fault_start == pytest.approx(0.3, abs=0.15)
    ((name, timeline),) = rig.judged
    assert name == "pause-db" and timeline.fault is not None and timeline.fault.start == marks.fault_start
    assert [step.name.split(":")[0] for step in result.record.steps] == ["stack healthy", "fault", "load"]
    assert Journal(rig.journal).entries() == []


def test_a_scenario_without_fault_has_only_a_steady_window(rig: Rig) -> None:
    result = rig.runner.run(rig.catalogue.scenario("calm"))
    assert result.record.marks.fault_start is None
    assert {phase for phase, _ in rig.recorder.lines} == {"steady"}
    assert rig.db.calls == []


def test_interrupt_during_the_fault_reverts_it_and_stops_the_load(rig: Rig) -> None:
    def interrupt_in_fault(line: str) -> None:
        rig.recorder.say(line)
        if rig.recorder.lines[-1] == ("fault", True):
            raise KeyboardInterrupt

    rig.runner.progress = Progress(interrupt_in_fault)
    with pytest.raises(KeyboardInterrupt):
        rig.runner.run(rig.catalogue.scenario("pause-db"))
    assert not rig.db.attrs["State"]["Paused"]
    assert rig.load.calls[-1] == "stop"
    assert rig.judged == []
    assert Journal(rig.journal).entries() == []


def test_a_fault_undone_during_its_window_is_not_judged(rig: Rig) -> None:
    def undo_in_fault(line: str) -> None:
        rig.recorder.say(line)
        if rig.recorder.lines[-1] == ("fault", True):
            rig.db.unpause()  # as an operator or the engine might

    rig.runner.progress = Progress(undo_in_fault)
    with pytest.raises(FaultError, match="undone before its window ended"):
        rig.runner.run(rig.catalogue.scenario("pause-db"))
    assert rig.judged == []
    assert rig.load.calls[-1] == "stop"


def test_prometheus_gone_gives_error_verdicts_that_name_it(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "judge_scenario", judge_scenario)
    rig.runner.source.fail("Prometheus at http://127.0.0.1:10400 unreachable")
    result = rig.runner.run(rig.catalogue.scenario("calm"))
    assert [v.status for v in result.verdicts] == ["error"]
    assert "Prometheus" in result.verdicts[0].reason
