from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main


def test_missing_compose_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yml"
    assert main(["status", "--stack", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"harness status: {missing}: no such compose file\n"


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2


def test_run_with_a_missing_compose_file_is_one_line_before_any_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yml"
    assert main(["run", "--stack", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"harness run: {missing}: no such compose file\n"
    assert captured.out == ""


def test_run_with_a_bad_catalogue_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slas = tmp_path / "slas.yaml"
    slas.write_text("version: 1\nobjectives: [\n")
    assert main(["run", "--stack", "stack/compose.yml", "--slas", str(slas)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"harness run: {slas}:")
