"""The command: exit codes, one-line errors for unreadable input, and the four output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from _lint_support import REPO, good_stack, service, with_service, write

from harness.lint.command import main
from harness.lint.rules import RULES


def _stacks(tmp_path: Path) -> tuple[Path, Path, Path]:
    slas = write(tmp_path / "slas.yaml", "lint:\n  cpu_affinity: {host_cores: 12}\n")
    good = write(tmp_path / "good.yml", good_stack())
    svc = service(ports=["9000:10200"])
    svc["x-lint-suppress"] = [{"rule": "5.1", "reason": "none needed"}]
    bad = write(tmp_path / "bad.yml", with_service("worker", {**svc, "restart": "always"}))
    return slas, good, bad


def test_exit_codes_0_and_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slas, good, bad = _stacks(tmp_path)
    assert main([str(good), "--slas", str(slas)]) == 0
    assert main([str(bad), "--slas", str(slas)]) == 1
    out = capsys.readouterr().out
    assert "worker:" in out and "error 3.2" in out and "5 services:" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "{path}: no such file"),
        ("services:\n  a: [1\n", "{path}:3:1: invalid YAML"),
        ("- just\n- a list\n", "{path}:1:1: not a compose file"),
        ("hello: world\n", "{path}:1: not a compose file: unknown top-level key 'hello'"),
        ("version: '3'\n", "{path}:1:1: not a compose file: no top-level 'services'"),
        ("services:\n  a:\n    mem_limit: lots\n", "{path}:3: services.a.mem_limit: not a size"),
        ("services:\n  a: 5\n", "{path}:2: services.a must be a mapping"),
        (
            "services:\n  a:\n    environment:\n      - {A: 1}\n",
            "{path}:4: environment: each list item must be",
        ),
        ("services: {a: {image: x}}\nnetworks: [a]\n", "{path}:2: networks must be a mapping"),
    ],
)
def test_unreadable_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "compose.yml"
    if content is not None:
        path.write_text(content)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(expected.format(path=path)), err


def test_whole_process_never_prints_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "compose.yml", "services:\n  a:\n    image: ${NEEDED:?set NEEDED}\n")
    done = subprocess.run(
        [sys.executable, "-m", "harness.lint", str(path), "--format", "json"],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"{path}:3: required variable NEEDED is missing a value: set NEEDED\n"
    assert done.stdout == ""


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slas, _, bad = _stacks(tmp_path)
    assert main([str(bad), "--slas", str(slas), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"findings", "summary"}
    assert set(document["summary"]) == {"services", "errors", "warnings"}
    assert document["summary"]["services"] == 5
    keys = {"rule", "severity", "service", "file", "line", "message"}
    for finding in document["findings"]:
        assert set(finding) in (keys, keys | {"suppressed"})
        assert finding["severity"] in ("error", "warning") and isinstance(finding["line"], int)
    suppressed = [f for f in document["findings"] if "suppressed" in f]
    assert suppressed and all(f["rule"] == "5.1" for f in suppressed)
    active_errors = [f for f in document["findings"] if f["severity"] == "error" and "suppressed" not in f]
    assert document["summary"]["errors"] == len(active_errors) > 0


def test_junit_has_a_case_per_service_and_rule(tmp_path: Path) -> None:
    slas, _, bad = _stacks(tmp_path)
    out = tmp_path / "lint.xml"
    assert main([str(bad), "--slas", str(slas), "--format", "junit", "--output", str(out)]) == 1
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 5 * len(RULES) == int(suite.get("tests", "0"))
    failed = {
        (c.get("classname"), c.get("name", "").split(":")[0]) for c in cases if c.find("failure") is not None
    }
    assert ("worker", "rule 3.2") in failed and ("worker", "rule 2.3") in failed
    assert int(suite.get("failures", "0")) == len(failed)
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [(c.get("classname"), c.get("name", "").split(":")[0]) for c in skipped] == [
        ("worker", "rule 5.1")
    ]


def test_sarif_2_1_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slas, _, bad = _stacks(tmp_path)
    assert main([str(bad), "--slas", str(slas), "--format", "sarif"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == [r.number for r in RULES]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
    assert any(
        r.get("suppressions") == [{"kind": "inSource", "justification": "none needed"}]
        for r in run["results"]
    )
