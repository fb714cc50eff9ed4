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
