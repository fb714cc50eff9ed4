"""The idle scenario: the runner stops the load for the fault window and starts it again for recovery,
under a run id of its own; no container is touched, and the journal is left empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import runner as runner_module
from harness.catalogue.parse import parse_text
from harness.faults import FaultRecord, restore_fault
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


def test_the_load_pauses_for_the_fault_window_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = parse_text(CATALOGUE, "slas.yaml")
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(runner_module, "judge_scenario", lambda *args: ())
    load = FakeLoad()
    lines: list[str] = []
    journal = Journal(tmp_path / "journal.json")
    runner = Runner(
        catalogue=catalogue,
        source=FakeMetricsSource(scrape_interval=0.05),
        load=load,
        make_fault=make_fault,  # type: ignore[arg-type]
        wait_ready=lambda: None,
        graph={},
        journal=journal,
        progress=Progress(lines.append),
        run_id="unit",
    )
    result = runner.run(catalogue.scenario("agent-idle"))
    assert load.calls == ["start unit-agent-idle", "stop", "start unit-agent-idle-resumed", "stop"]
    fault_lines = [line for line in lines if "] fault" in line]
    assert fault_lines and all(" 0 users" in line for line in fault_lines)
    assert any("idle: no load, for service agent to hibernate" in step.name for step in result.record.steps)
    assert journal.entries() == []


def test_a_journalled_idle_needs_no_revert() -> None:
    assert restore_fault(FaultRecord("idle", "agent", "unit-agent-idle-resumed"), None) is None
