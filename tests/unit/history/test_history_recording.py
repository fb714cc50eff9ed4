"""A run's history through write_reports: regression verdicts from the runs before it, the run appended
once; an unreadable history makes the regression verdicts errors, an unwritable one a line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from history_synth import DAY, T0, objective, verdict

from harness.history.recording import RunHistory
from harness.history.spec import RegressionSpec
from harness.history.store import RunInfo, open_for_append, open_history
from harness.reports import write_reports

SPEC = RegressionSpec("p99", compare_with=8)
NIGHTS = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.01, 0.99, 1.02]


def _history(path: Path, night: int, append: bool = True) -> RunHistory:
    run = RunInfo(f"night{night}", T0 + night * DAY) if append else None
    return RunHistory(str(path), (objective(SPEC),), run, T0 + night * DAY)


def _night(tmp_path: Path, night: int, p99: float) -> dict[str, str]:
    history = _history(tmp_path / "history.sqlite", night)
    verdicts = [verdict(p99), *history.regressions([verdict(p99)])]
    write_reports(tmp_path / "reports", verdicts, history=history)
    document = json.loads((tmp_path / "reports" / "verdicts.json").read_text())
    return {v["id"]: v["status"] for v in document["verdicts"]}


def test_each_night_is_judged_against_the_nights_before_it_and_appended(tmp_path: Path) -> None:
    statuses = [_night(tmp_path, i, p99) for i, p99 in enumerate(NIGHTS)]
    assert [s["api-latency:regression"] for s in statuses] == ["skipped"] * 8 + ["pass"]
    assert [_night(tmp_path, 9 + i, 1.25) for i in range(3)][-1]["api-latency:regression"] == "fail"
    store = open_history(str(tmp_path / "history.sqlite"))
    assert len(store.runs()) == 12
    assert store.objective_ids("night11") == ["api-latency", "api-latency:regression"]
    store.close()


def test_judging_a_recorded_night_again_appends_nothing_and_ignores_itself(tmp_path: Path) -> None:
    for i, p99 in enumerate(NIGHTS):
        _night(tmp_path, i, p99)
    again = _history(tmp_path / "history.sqlite", 8, append=False)
    (result,) = again.regressions([verdict(NIGHTS[8])])
    assert result.status == "pass" and "last 8 values" in result.reason
    again.record([verdict(NIGHTS[8])], 0)
    assert len(open_history(str(tmp_path / "history.sqlite")).runs()) == 9


def test_an_unreadable_history_makes_the_regression_verdicts_errors_and_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.sqlite"
    path.write_text("someone else's file\n")
    history = _history(path, 0)
    (result,) = history.regressions([verdict(1.0)])
    assert result.status == "error"
    assert result.reason.startswith(f"the history cannot be read: {path}: not a harness history")
    code = write_reports(tmp_path / "reports", [verdict(1.0)], history=history)
    # The run's own verdicts decide: a history that cannot be appended is said, not gated on.
    assert code == 0
    assert (
        capsys.readouterr().err
        == f"harness: history not recorded: {path}: not a harness history: not an SQLite database (file is not a database)\n"
    )
    assert path.read_text() == "someone else's file\n"


def test_objectives_without_regression_read_no_history(tmp_path: Path) -> None:
    history = RunHistory(str(tmp_path / "absent" / "h.sqlite"), (objective(),), None, T0)
    assert history.regressions([verdict(1.0)]) == ()
    assert not (tmp_path / "absent").exists()


def test_the_history_is_created_on_the_first_night(tmp_path: Path) -> None:
    open_for_append(str(tmp_path / "h.sqlite")).close()
    assert open_history(str(tmp_path / "h.sqlite")).runs() == []
