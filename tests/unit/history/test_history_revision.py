"""The stack's revision: HEAD of the first compose file's git work tree, else empty; and the run's time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from history_synth import T0

from harness.catalogue.parse import parse_text
from harness.history.recording import rejudge_history, run_history
from harness.history.revision import stack_revision
from harness.reports.run_record import RunRecord, ScenarioRecord
from harness.windows import PhaseMarks

SLAS = """\
version: 1
defaults: {history: h.sqlite}
scenarios:
  baseline: {windows: {steady: 20s}}
objectives:
  - {id: up, rule: "7.1", scenarios: all, window: steady, promql: {query: "min(up)", comparator: "==", threshold: 1}}
"""


def _git(folder: Path, *args: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def test_the_revision_is_the_compose_files_work_tree_head(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "compose.yml").write_text("services: {}\n")
    assert stack_revision(stack / "compose.yml") == ""  # not a work tree
    _git(stack, "init", "-q")
    _git(stack, "commit", "-q", "--allow-empty", "-m", "stack")
    assert stack_revision(stack / "compose.yml") == _git(stack, "rev-parse", "HEAD")


def test_a_run_is_known_by_its_first_scenarios_start_and_a_re_judge_appends_nothing(tmp_path: Path) -> None:
    catalogue = parse_text(SLAS, "slas.yaml")
    record = RunRecord(
        (
            ScenarioRecord("late", PhaseMarks(steady_start=T0 + 100, end=T0 + 120)),
            ScenarioRecord("early", PhaseMarks(steady_start=T0, end=T0 + 20)),
        )
    )
    new = run_history(catalogue, "run-1", record, tmp_path / "compose.yml")
    assert (new.path, new.before) == ("h.sqlite", T0)
    assert new.run is not None and (new.run.run_id, new.run.time, new.run.revision) == ("run-1", T0, "")
    again = rejudge_history(catalogue, record)
    assert (again.run, again.before) == (None, T0)
