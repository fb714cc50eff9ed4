"""Every command through the real entry point (`python -m harness` or `harness.cli.main`), on the paths
that need no Docker: `--help`, bad input (one stderr line, exit 2), `slas` on the shipped catalogues, and
`judge` on a recorded run against a dead Prometheus and against a fake one.

Unit tests that build an argparse namespace themselves cannot see what the CLI does to it (judge's `--run`
once shadowed the command dispatch), hence these.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest

from harness.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
STACK = str(ROOT / "stack" / "compose.yml")
SLAS = """\
version: 1
scenarios:
  baseline: {windows: {steady: 20s}}
objectives:
  - id: up
    rule: "7.1"
    scenarios: all
    window: steady
    promql: {query: "min(up)", comparator: "==", threshold: 1}
"""
T0 = 1_700_000_000.0
RECORD = {
    "version": 1,
    "graph": {},
    "scenarios": [{"name": "baseline", "marks": {"steady_start": T0, "end": T0 + 20}, "steps": []}],
}


def harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def one_line(err: str, command: str) -> str:
    """The single stderr line of a failed command, without its `harness COMMAND: ` prefix."""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    prefix = f"harness {command}: "
    assert err.startswith(prefix), err
    return err[len(prefix) : -1]


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A folder with slas.yaml and reports/run.json, as a `run` leaves them."""
    (tmp_path / "slas.yaml").write_text(SLAS)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "run.json").write_text(json.dumps(RECORD))
    return tmp_path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_answers_help(command: str) -> None:
    result = harness(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m harness {command}")
    assert result.stderr == ""


def test_a_usage_error_is_one_line_exit_2() -> None:
    result = harness("engine", "bogus")
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in one_line(result.stderr, "engine")
    assert harness().stderr.startswith("harness: the following arguments are required: COMMAND")


# (argv, what the one stderr line starts with); {missing} is a path that does not exist, {folder} a folder
INPUT_ERRORS = [
    *(
        ([c, "--stack", "{missing}"], "{missing}: no such compose file")
        for c in ("build", "up", "down", "status")
    ),
    (["clean", "--slas", "{slas}", "--stack", "{missing}"], "{missing}: no such compose file"),
    (["clean", "--slas", "{missing}"], "{missing}: no such file"),
    (["run", "--stack", "{missing}"], "{missing}: no such compose file"),
    (["run", "--stack", STACK, "--slas", "{missing}"], "{missing}: no such file"),
    (["run", "--stack", STACK, "--slas", "{folder}"], "{folder}: cannot read"),
    (["slas", "--slas", "{missing}"], "{missing}: no such file"),
    (["slas", "--slas", "{folder}"], "{folder}: cannot read"),
    (["judge", "--slas", "{missing}"], "{missing}: no such file"),
    (["judge", "--slas", "{slas}", "--run", "{missing}"], "{missing}: no such file"),
    (["judge", "--slas", "{slas}", "--run", "{folder}"], "{folder}: cannot read"),
]


@pytest.mark.parametrize(
    ("argv", "message"), INPUT_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_a_missing_or_unreadable_input_is_one_line_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {"missing": str(tmp_path / "nope"), "folder": str(tmp_path), "slas": str(ROOT / "slas.yaml")}
    assert main([a.format(**names) for a in argv]) == 2
    captured = capsys.readouterr()
    assert one_line(captured.err, argv[0]).startswith(message.format(**names))
    assert captured.out == ""


def test_lint_of_a_missing_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yml"
    assert main(["lint", str(missing)]) == 2
    # The lint prints its input errors itself, without the `harness lint: ` prefix (harness/lint/command.py).
    assert capsys.readouterr().err == f"{missing}: no such file\n"


def test_judge_against_a_dead_prometheus_writes_error_verdicts_and_exits_2(recorded: Path) -> None:
    # The defaults (--slas slas.yaml --run reports/run.json --reports reports) from the run's folder.
    result = harness("judge", "--prometheus", f"http://127.0.0.1:{dead_port()}", cwd=recorded)
    assert result.returncode == 2, result.stderr
    document = json.loads((recorded / "reports" / "verdicts.json").read_text())
    assert document["exit_code"] == 2
    assert [(v["id"], v["status"]) for v in document["verdicts"]] == [("up", "error")]
    assert "unreachable" in document["verdicts"][0]["evidence"]["reason"]
    assert (recorded / "reports" / "junit.xml").is_file()
    assert "exit 2 (could not measure every gate SLA)" in result.stdout


def test_no_command_option_can_shadow_the_dispatch(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # judge's --run once overwrote the handler the CLI dispatched to: every `judge --run X` crashed.
    argv = ["judge", "--slas", str(recorded / "slas.yaml"), "--run", str(recorded / "nope.json")]
    assert main(argv) == 2
    assert one_line(capsys.readouterr().err, "judge").endswith("nope.json: no such file")
    # And the one attribute the CLI keeps for itself is refused to any command that declares it.
    rogue = types.ModuleType("rogue")
    rogue.HELP = "declares --command"  # type: ignore[attr-defined]
    rogue.add_arguments = lambda parser: parser.add_argument("--command")  # type: ignore[attr-defined]
    rogue.run = lambda args: 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rogue", rogue)
    monkeypatch.setitem(COMMANDS, "rogue", ("rogue", "a command with a bad option"))
    with pytest.raises(TypeError, match="rogue declares --command"):
        main(["rogue", "--command", "x"])
