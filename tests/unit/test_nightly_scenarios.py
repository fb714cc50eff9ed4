"""Nightly-only scenarios (slas.yaml `nightly: true`): `harness run` leaves them out and says which, unless
--nightly asks for them; `harness slas` marks them; anything but a boolean is one line and exit 2.

Through the real entry point, with pytest's --collect-only: nothing starts, no engine is asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CATALOGUE = """\
version: 1
load:
  requests: [{{name: health, path: /health}}]
scenarios:
  quick:
    windows: {{steady: 10s}}
  long-idle:
    nightly: {nightly}
    windows: {{steady: 10s, fault: 330s, recovery: 30s}}
    fault: {{kind: idle, target: agent}}
objectives:
  - id: up
    rule: "7.1"
    scenarios: all
    window: whole
    promql: {{query: 'up', comparator: '>=', threshold: 1}}
"""


def harness(tmp_path: Path, nightly: str, *args: str) -> subprocess.CompletedProcess[str]:
    slas = tmp_path / "slas.yaml"
    slas.write_text(CATALOGUE.format(nightly=nightly))
    argv = [sys.executable, "-m", "harness", *args, "--slas", str(slas)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


def collected(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    reports = str(tmp_path / "reports")
    return harness(tmp_path, "true", "run", "--reports", reports, *flags, "--", "--collect-only", "-q")


def test_a_run_leaves_the_nightly_scenario_out_and_names_it(tmp_path: Path) -> None:
    result = collected(tmp_path)
    assert "[quick]" in result.stdout
    assert "long-idle" not in result.stdout
    assert "left out the nightly-only scenario(s) long-idle: --nightly runs them" in result.stderr


def test_nightly_runs_it_too(tmp_path: Path) -> None:
    result = collected(tmp_path, "--nightly")
    assert "[quick]" in result.stdout
    assert "[long-idle]" in result.stdout
    assert "left out" not in result.stderr


def test_slas_marks_it(tmp_path: Path) -> None:
    result = harness(tmp_path, "true", "slas")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  long-idle:")]
    assert lines and lines[0].endswith("nightly only (--nightly)")
    assert "nightly only" not in next(line for line in result.stdout.splitlines() if "quick:" in line)


def test_a_nightly_that_is_not_a_boolean_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = harness(tmp_path, "sometimes", "slas")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "slas.yaml:8: scenarios.long-idle.nightly: expected true or false" in result.stderr
