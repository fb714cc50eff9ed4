"""Every command through the real entry point (`python -m harness` or `harness.cli.main`), on the paths
that need no Docker: `--help`, bad input (one stderr line, exit 2), `slas` on the shipped catalogues, and
`judge` on a recorded run against a dead Prometheus and against a fake one.

Unit tests that build an argparse namespace themselves cannot see what the CLI does to it (judge's `--run`
once shadowed the command dispatch), hence these.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import COMMANDS, build_parser, main
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.fake_api import serve_prometheus

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
def prometheus() -> Iterator[tuple[str, FakeMetricsSource]]:
    """A fake Prometheus on loopback: its URL, and the fake whose series it answers with."""
    fake = FakeMetricsSource()
    with serve_prometheus(fake, (("up", "1s"),)) as api:
        yield api.url, fake


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


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_default_is_shown_in_the_help(command: str) -> None:
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    formatter = sub._get_formatter()
    for action in sub._actions:
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            shown = formatter._get_help_string(action) or ""  # what --help prints beside the option
            assert "default" in shown, f"{command} {action.option_strings[0]}: {shown!r}"


def test_version_and_what_the_tool_does() -> None:
    version = harness("--version")
    assert version.returncode == 0 and version.stdout.startswith("harness ")
    described = harness("--help").stdout
    assert "inject faults under load" in " ".join(described.split())
    assert "one module per command" not in described  # the code's layout is no user's business


def test_lint_takes_stack_like_every_stack_command(tmp_path: Path) -> None:
    as_option = harness("lint", "--stack", "stack/compose.yml", "--slas", "slas.yaml")
    as_files = harness("lint", "stack/compose.yml", "--slas", "slas.yaml")
    assert as_option.returncode == as_files.returncode == 0, as_option.stderr
    assert as_option.stdout == as_files.stdout
    nothing = harness("lint")
    assert nothing.returncode == 2
    assert "no compose file" in one_line(nothing.stderr, "lint")


def test_a_usage_error_is_one_line_exit_2() -> None:
    result = harness("engine", "bogus")
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in one_line(result.stderr, "engine")
    for argv, words in [
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "invalid choice"),
    ]:
        result = harness(*argv)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and words in result.stderr


@pytest.mark.parametrize("catalogue", ["slas.yaml", "slas.example.yaml"])
def test_slas_checks_the_shipped_catalogues(catalogue: str) -> None:
    result = harness("slas", "--slas", catalogue)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{catalogue}: ") and "objectives:" in result.stdout


# (argv, what the one stderr line starts with): {missing} does not exist, {folder} is a folder, {file} a file.
# No row may reach Docker: `run` past its input checks would start the stack.
INPUT_ERRORS = [
    *(
        ([c, "--stack", "{missing}"], "{missing}: no such compose file")
        for c in ("build", "up", "down", "status")
    ),
    (["clean", "--slas", "{slas}", "--stack", "{missing}"], "{missing}: no such compose file"),
    (["clean", "--slas", "{missing}"], "{missing}: no such file"),
    *(([c, "--stack", STACK, "--slas", "{missing}"], "{missing}: no such file") for c in ("up", "status")),
    (["run", "--stack", "{missing}"], "{missing}: no such compose file"),
    (["run", "--stack", STACK, "--slas", "{missing}"], "{missing}: no such file"),
    (["run", "--stack", STACK, "--slas", "{folder}"], "{folder}: cannot read"),
    (["run", "--stack", STACK, "--slas", "{bad_yaml}"], "{bad_yaml}:3"),
    (["run", "--stack", STACK, "--slas", "{slas}", "--suites", "{missing}"], "{missing}: no such folder"),
    (
        ["run", "--stack", STACK, "--slas", "{loadless}"],
        "{loadless}: load: missing: name your load.locustfile",
    ),
    (["run", "--stack", STACK, "--slas", "{slas}", "--reports", "{file}"], "{file}: cannot write: "),
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
    (tmp_path / "file").write_text("")
    (tmp_path / "bad.yaml").write_text("version: 1\nobjectives: [\n")
    (tmp_path / "loadless.yaml").write_text(
        "version: 1\nscenarios: {baseline: {}}\nobjectives:\n  - {id: fast, rule: '8.1', scenarios: all,"
        " window: steady, analyzer: {name: response_time, params: {threshold: 1s}}}\n"
    )
    names = {
        "missing": str(tmp_path / "nope"),
        "folder": str(tmp_path),
        "file": str(tmp_path / "file"),
        "bad_yaml": str(tmp_path / "bad.yaml"),
        "slas": str(ROOT / "slas.yaml"),
        "loadless": str(tmp_path / "loadless.yaml"),
    }
    assert main([a.format(**names) for a in argv]) == 2
    captured = capsys.readouterr()
    assert one_line(captured.err, argv[0]).startswith(message.format(**names))
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{missing}"], "{missing}: no such file"),
        (["{folder}"], "{folder}: cannot read"),
        ([STACK, "--slas", "{missing}"], "{missing}: no such file"),
        ([STACK, "--output", "{folder}"], "{folder}: cannot write"),
    ],
)
def test_lint_of_a_missing_or_unreadable_input_is_one_line_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {"missing": str(tmp_path / "nope.yml"), "folder": str(tmp_path)}
    assert main(["lint", *(a.format(**names) for a in argv)]) == 2
    err = capsys.readouterr().err
    # The lint prints its input errors itself, without the `harness lint: ` prefix (harness/lint/command.py).
    assert err.count("\n") == 1 and err.startswith(message.format(**names)), err


@pytest.mark.parametrize("command", ["build", "up", "down", "status", "clean", "run"])
def test_a_project_name_compose_would_refuse_is_one_line_before_any_engine(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--project-name", "My Stack"])
    assert exit_info.value.code == 2
    line = one_line(capsys.readouterr().err, command)
    assert line.startswith("argument --project-name: expected lower case letters") and "'My Stack'" in line


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


@pytest.mark.parametrize(("value", "status", "code"), [(1.0, "pass", 0), (0.0, "fail", 1)])
def test_judge_against_a_prometheus_judges_the_recorded_windows(
    recorded: Path, prometheus: tuple[str, FakeMetricsSource], value: float, status: str, code: int
) -> None:
    url, fake = prometheus
    fake.put("min(up)", {}, [(T0 + 20, value)])
    reports = recorded / "out"
    result = harness("judge", "--prometheus", url, "--reports", str(reports), cwd=recorded)
    assert result.returncode == code, result.stderr
    document = json.loads((reports / "verdicts.json").read_text())
    assert [(v["id"], v["scenario"], v["status"]) for v in document["verdicts"]] == [
        ("up", "baseline", status)
    ]
    assert fake.queries == ["min(up)"]


def test_judge_refuses_a_prometheus_that_is_not_a_url_before_judging(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = recorded / "out"
    argv = ["judge", "--slas", str(recorded / "slas.yaml"), "--run", str(recorded / "reports" / "run.json")]
    for url, words in [("notaurl", "got 'notaurl'"), ("", "got ''"), ("http://[::1", "Invalid IPv6 URL")]:
        assert main([*argv, "--reports", str(reports), "--prometheus", url]) == 2
        line = one_line(capsys.readouterr().err, "judge")
        assert line.startswith("--prometheus: expected an http:// or https:// URL") and words in line
    assert not reports.exists()


def test_judge_with_reports_at_a_file_is_one_line_before_judging(
    recorded: Path, prometheus: tuple[str, FakeMetricsSource], capsys: pytest.CaptureFixture[str]
) -> None:
    url, fake = prometheus
    blocker = recorded / "blocker"
    blocker.write_text("")
    argv = ["judge", "--slas", str(recorded / "slas.yaml"), "--run", str(recorded / "reports" / "run.json")]
    for reports in (blocker, blocker / "reports"):
        assert main([*argv, "--prometheus", url, "--reports", str(reports)]) == 2
        assert one_line(capsys.readouterr().err, "judge").startswith(f"{reports}: cannot write: ")
    assert fake.queries == []


@pytest.mark.parametrize(
    ("marks", "field", "words"),
    [
        ({"steady_start": 1e300, "end": 1e300 + 20}, "steady_start", "got 1e+300"),
        ({"steady_start": float("nan"), "end": T0}, "steady_start", "got NaN"),
        ({"steady_start": -20.0, "end": -1.0}, "steady_start", "got -20.0"),
        ({"steady_start": T0, "end": T0 - 20}, "", "ends before it starts"),
    ],
)
def test_judge_refuses_impossible_marks_naming_file_and_field(
    recorded: Path,
    prometheus: tuple[str, FakeMetricsSource],
    capsys: pytest.CaptureFixture[str],
    marks: dict[str, float],
    field: str,
    words: str,
) -> None:
    run_json = recorded / "reports" / "run.json"
    run_json.write_text(json.dumps({**RECORD, "scenarios": [{"name": "baseline", "marks": marks}]}))
    argv = [
        "judge",
        "--slas",
        str(recorded / "slas.yaml"),
        "--run",
        str(run_json),
        "--prometheus",
        prometheus[0],
    ]
    assert main([*argv, "--reports", str(recorded / "out")]) == 2
    line = one_line(capsys.readouterr().err, "judge")
    assert line.startswith(f"{run_json}: scenarios[0].marks{'.' + field if field else ''}: ")
    assert words in line
    assert not (recorded / "out").exists()


def test_run_history_option_is_checked_before_anything_runs(tmp_path: Path) -> None:
    foreign = tmp_path / "history.sqlite"
    foreign.write_text("not a database")
    for given, words in [
        ("sqlite://x", "expected a file path or a sqlite:/// URL"),
        (str(foreign), "not a harness history"),
    ]:
        result = harness("run", "--history", given)
        assert result.returncode == 2
        assert words in one_line(result.stderr, "run")
    assert foreign.read_text() == "not a database"  # never written


def test_a_run_session_has_no_warning_about_the_harness_itself(tmp_path: Path) -> None:
    # `harness run` imports the package before pytest finds it as a plugin: without PYTEST_DONT_REWRITE in
    # its docstring every run's summary ended on "Module already imported so cannot be rewritten; harness".
    slas = tmp_path / "slas.yaml"
    slas.write_text(SLAS + "load:\n  requests: [{name: health, path: /health}]\n")
    reports = str(tmp_path / "reports")
    result = harness("run", "--slas", str(slas), "--reports", reports, "--", "--collect-only", "-q")
    assert "[baseline]" in result.stdout, result.stdout + result.stderr
    assert "PytestAssertRewriteWarning" not in result.stdout + result.stderr


@pytest.mark.parametrize("argv", [("slas", "--schema"), ("lint", "stack/compose.yml", "--format", "json")])
def test_a_reader_that_goes_away_is_no_traceback(argv: tuple[str, ...]) -> None:
    # `python -m harness slas --schema | head -1`: the pipe closes while the harness still writes.
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err
