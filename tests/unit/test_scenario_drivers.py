"""Scenarios for some stack drivers only (slas.yaml `drivers: [compose]`): `harness run` under another driver
leaves them out and says which; `harness slas` marks them; an unknown driver is one line and exit 2.

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
  cut-off:
    drivers: {drivers}
    fault: {{kind: partition, target: agent, network: backend}}
objectives:
  - id: up
    rule: "7.1"
    scenarios: all
    window: whole
    promql: {{query: 'up', comparator: '>=', threshold: 1}}
"""


def harness(tmp_path: Path, drivers: str, *args: str) -> subprocess.CompletedProcess[str]:
    slas = tmp_path / "slas.yaml"
    slas.write_text(CATALOGUE.format(drivers=drivers))
    argv = [sys.executable, "-m", "harness", *args, "--slas", str(slas)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


def collected(tmp_path: Path, driver: str) -> subprocess.CompletedProcess[str]:
    reports = str(tmp_path / "reports")
    return harness(
        tmp_path, "[compose]", "run", "--reports", reports, "--driver", driver, "--", "--collect-only", "-q"
    )


def test_another_driver_leaves_the_scenario_out_and_names_it(tmp_path: Path) -> None:
    result = collected(tmp_path, "swarm")
    assert "[quick]" in result.stdout
    assert "cut-off" not in result.stdout
    assert (
        "left out the scenario(s) cut-off: slas.yaml runs them under another driver than swarm (`drivers`)"
        in result.stderr
    )


def test_its_own_driver_runs_it(tmp_path: Path) -> None:
    result = collected(tmp_path, "compose")
    assert "[quick]" in result.stdout
    assert "[cut-off]" in result.stdout
    assert "left out" not in result.stderr


def test_slas_marks_it(tmp_path: Path) -> None:
    result = harness(tmp_path, "[compose]", "slas")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  cut-off:")]
    assert lines and lines[0].endswith("compose driver only")


def test_an_unknown_driver_or_none_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for given, shown in (("[compose, nomad]", "['compose', 'nomad']"), ("[]", "[]")):
        result = harness(tmp_path, given, "slas")
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1
        assert (
            f"slas.yaml:8: scenarios.cut-off.drivers: expected some of compose, swarm, got {shown}"
            in result.stderr
        )
