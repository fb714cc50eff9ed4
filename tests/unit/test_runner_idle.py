"""The idle scenario: the runner stops the load for the fault window and starts it again for recovery,
under a run id of its own; no container is touched, and the journal is left empty. A Ctrl-C in the fault
window resumes the load before the run stops it; the entry a killed run left is swept with nothing to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness import runner as runner_module
from harness.catalogue.parse import parse_text
from harness.faults import FaultRecord, restore_fault, sweep
from harness.faults.journal import Journal
from harness.load.fake import FakeLoad
from harness.metrics.fake import FakeMetricsSource
from harness.runner import Progress, Runner

CATALOGUE = """
version: 1
defaults:
  windows: {steady: 200ms, fault: 300ms, recovery: 200ms}
scenarios:
  agent-idle:
    fault: {kind: idle, target: agent}
objectives:
  - id: health
    rule: "6.3"
    scenarios: all
    window: whole
    analyzer: {name: response_time, params: {threshold: 1s}}
"""


def make_fault(scenario: object) -> object:
    raise AssertionError("idle is the runner's own: no fault is built on the stack")


def idle_runner(journal: Journal, load: FakeLoad, say: Callable[[str], None]) -> Runner:
    return Runner(
        catalogue=parse_text(CATALOGUE, "slas.yaml"),
        source=FakeMetricsSource(scrape_interval=0.05),
        load=load,
        make_fault=make_fault,  # type: ignore[arg-type]
        wait_ready=lambda: None,
        graph={},
        journal=journal,
        progress=Progress(say),
        run_id="unit",
    )


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(runner_module, "judge_scenario", lambda *args: ())


def test_the_load_pauses_for_the_fault_window_and_resumes(tmp_path: Path) -> None:
    load = FakeLoad()
    lines: list[str] = []
    journal = Journal(tmp_path / "journal.json")
    runner = idle_runner(journal, load, lines.append)
    result = runner.run(runner.catalogue.scenario("agent-idle"))
    assert load.calls == ["start unit-agent-idle", "stop", "start unit-agent-idle-resumed", "stop"]
    fault_lines = [line for line in lines if "] fault" in line]
    assert fault_lines and all(" 0 users" in line for line in fault_lines)
    assert any("idle: no load, for service agent to hibernate" in step.name for step in result.record.steps)
    assert journal.entries() == []


def test_a_journalled_idle_needs_no_revert() -> None:
    assert restore_fault(FaultRecord("idle", "agent", "unit-agent-idle-resumed"), None) is None


def test_ctrl_c_in_the_idle_window_resumes_the_load_then_the_run_stops_it(tmp_path: Path) -> None:
    def interrupted_in_the_fault_window(line: str) -> None:
        if "] fault" in line:
            raise KeyboardInterrupt

    load = FakeLoad()
    journal = Journal(tmp_path / "journal.json")
    runner = idle_runner(journal, load, interrupted_in_the_fault_window)
    with pytest.raises(KeyboardInterrupt):
        runner.run(runner.catalogue.scenario("agent-idle"))
    assert load.calls == ["start unit-agent-idle", "stop", "start unit-agent-idle-resumed", "stop"]
    assert journal.entries() == []


def test_the_idle_entry_a_killed_run_left_is_swept_with_nothing_to_revert(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json")
    journal.add(FaultRecord("idle", "agent", "unit-agent-idle-resumed"), pid=4242, since=0.0)
    report = sweep(journal, None, None)  # the load it paused has its own entry: nothing on the stack
    assert report.ok, report.errors
    assert report.cleaned == ("idle on agent: the load it paused is the journal's own entry, nothing else",)
    assert journal.entries() == []
