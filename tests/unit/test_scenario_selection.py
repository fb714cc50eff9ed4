"""Scenarios left out of a run, and said so: nightly-only ones (slas.yaml `nightly: true`) unless --nightly asks
for them, and those for other stack drivers (`drivers: [compose]`) under another one. `harness slas` marks
both; a bad value is one line and exit 2.

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


def harness(
    tmp_path: Path, *args: str, nightly: str = "true", drivers: str = "[compose]"
) -> subprocess.CompletedProcess[str]:
    slas = tmp_path / "slas.yaml"
    slas.write_text(CATALOGUE.format(nightly=nightly, drivers=drivers))
    argv = [sys.executable, "-m", "harness", *args, "--slas", str(slas)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


def collected(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    reports = str(tmp_path / "reports")
    return harness(tmp_path, "run", "--reports", reports, *flags, "--", "--collect-only", "-q")


def test_a_run_leaves_the_nightly_scenario_out_and_names_it(tmp_path: Path) -> None:
    result = collected(tmp_path)
    assert "[quick]" in result.stdout and "[cut-off]" in result.stdout
    assert "long-idle" not in result.stdout
    assert "left out the nightly-only scenario(s) long-idle: --nightly runs them" in result.stderr


def test_nightly_runs_it_too(tmp_path: Path) -> None:
    result = collected(tmp_path, "--nightly")
    assert "[quick]" in result.stdout
    assert "[long-idle]" in result.stdout
    assert "left out" not in result.stderr


def test_another_driver_leaves_the_scenario_out_and_names_it(tmp_path: Path) -> None:
    result = collected(tmp_path, "--nightly", "--driver", "swarm")
    assert "[quick]" in result.stdout
    assert "cut-off" not in result.stdout
    assert (
        "left out the scenario(s) cut-off: slas.yaml runs them under another driver than swarm (`drivers`)"
        in result.stderr
    )


def test_slas_marks_both(tmp_path: Path) -> None:
    result = harness(tmp_path, "slas")
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0].strip(): line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert lines["long-idle"].endswith("nightly only (--nightly)")
    assert lines["cut-off"].endswith("compose driver only")
    assert "only" not in lines["quick"]


def test_a_nightly_that_is_not_a_boolean_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = harness(tmp_path, "slas", nightly="sometimes")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "slas.yaml:8: scenarios.long-idle.nightly: expected true or false" in result.stderr


def test_an_unknown_driver_or_none_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for given, shown in (("[compose, nomad]", "['compose', 'nomad']"), ("[]", "[]")):
        result = harness(tmp_path, "slas", drivers=given)
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1
        assert (
            f"slas.yaml:12: scenarios.cut-off.drivers: expected some of compose, swarm, got {shown}"
            in result.stderr
        )
