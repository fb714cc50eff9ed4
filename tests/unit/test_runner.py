"""The runner over the packaged fakes: phases in order, the fault in force exactly during its window,
load throughout, the judge handed the recorded timeline, and every fault reverted on interruption."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import runner as runner_module
from harness.catalogue.model import Scenario
from harness.catalogue.parse import parse_text
from harness.faults.build import build_fault
from harness.faults.fake import FakeContainer, FakeStack
from harness.faults.journal import Journal
from harness.load.fake import FakeLoad
from harness.metrics.fake import FakeMetricsSource
from harness.runner import Progress, Runner

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


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    catalogue = parse_text(CATALOGUE, "slas.yaml")
    db = FakeContainer("db")
    stack = FakeStack(db)
    recorder = Recorder(db)
    judged: list[tuple[str, object]] = []
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(
        runner_module,
        "judge_scenario",
        lambda cat, scenario, timeline, source, graph: judged.append((scenario.name, timeline)) or (),
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
    return runner, catalogue, db, recorder, load, judged, ready, tmp_path / "journal.json"


def test_fault_is_in_force_exactly_during_its_window(setup) -> None:
    runner, catalogue, db, recorder, load, judged, ready, journal = setup
    result = runner.run(catalogue.scenario("pause-db"))

    assert ready == ["ready"]
    phases = [phase for phase, _ in recorder.lines]
    assert phases == sorted(phases, key=["steady", "fault", "recovery"].index)
    assert {paused for phase, paused in recorder.lines if phase == "fault"} == {True}
    assert {paused for phase, paused in recorder.lines if phase != "fault"} == {False}
    assert not db.attrs["State"]["Paused"]
    assert load.calls == ["start unit-pause-db", "stop"]
    assert db.calls == ["pause", "unpause"]

    marks = result.record.marks
    assert marks.steady_start < marks.fault_start < marks.fault_end < marks.end
    assert marks.fault_end - marks.fault_start == pytest.approx(0.3, abs=0.15)
    ((name, timeline),) = judged
    assert name == "pause-db" and timeline.fault.start == marks.fault_start
    assert [step.name.split(":")[0] for step in result.record.steps] == ["stack healthy", "fault", "load"]
    assert not journal.exists() or Journal(journal).entries() == []


def test_a_scenario_without_fault_has_only_a_steady_window(setup) -> None:
    runner, catalogue, db, recorder, load, judged, ready, journal = setup
    result = runner.run(catalogue.scenario("calm"))
    assert result.record.marks.fault_start is None
    assert {phase for phase, _ in recorder.lines} == {"steady"}
    assert db.calls == []


def test_interrupt_during_the_fault_reverts_it_and_stops_the_load(setup) -> None:
    runner, catalogue, db, recorder, load, judged, ready, journal = setup

    def interrupt_in_fault(line: str) -> None:
        recorder.say(line)
        if recorder.lines[-1] == ("fault", True):
            raise KeyboardInterrupt

    runner.progress = Progress(interrupt_in_fault)
    with pytest.raises(KeyboardInterrupt):
        runner.run(catalogue.scenario("pause-db"))
    assert not db.attrs["State"]["Paused"]
    assert load.progress().rps == 0.0  # stopped
    assert judged == []
    assert not journal.exists() or Journal(journal).entries() == []
