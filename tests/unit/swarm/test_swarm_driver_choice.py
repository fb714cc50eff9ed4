"""--driver, slas.yaml's defaults.driver, DRIVER= in the Makefile: the choice and its bad values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import parse_text
from harness.driver import driver_from_slas, resolve_driver
from harness.errors import InputError

REPO = Path(__file__).resolve().parents[3]
CATALOGUE = """version: 1
defaults:
  driver: {driver}
scenarios:
  baseline: {{description: steady}}
objectives:
  - id: up
    rule: "2.2"
    description: up
    scenarios: all
    window: steady
    promql: {{query: up, comparator: ">=", threshold: 1}}
"""


def write(tmp_path: Path, driver: str) -> Path:
    path = tmp_path / "slas.yaml"
    path.write_text(CATALOGUE.format(driver=driver))
    return path


def test_default_is_compose(tmp_path: Path) -> None:
    assert resolve_driver(None, None) == "compose"
    assert resolve_driver(None, tmp_path / "absent.yaml") == "compose"
    (tmp_path / "slas.yaml").write_text("version: 1\n")
    assert driver_from_slas(tmp_path / "slas.yaml") == "compose"


def test_slas_yaml_chooses_and_the_option_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "swarm")
    assert resolve_driver(None, path) == "swarm"
    assert resolve_driver("compose", path) == "compose"
    assert parse_text(path.read_text(), str(path)).defaults.driver == "swarm"


def test_a_bad_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "kubernetes")
    with pytest.raises(InputError) as caught:
        driver_from_slas(path)
    assert str(caught.value).startswith(f"{path}:3")
    assert "driver" in str(caught.value) and "compose, swarm" in str(caught.value)
    with pytest.raises(InputError, match=r":3.*driver"):
        parse_text(path.read_text(), str(path))


def test_run_refuses_a_bad_driver_in_slas_yaml_in_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "kubernetes")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--slas",
            str(path),
            "--stack",
            str(REPO / "stack" / "compose.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:3" in lines[0] and "driver" in lines[0], result.stderr


@pytest.mark.parametrize("command", ["run", "up", "down"])
def test_a_bad_option_value_is_a_usage_error(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", command, "--driver", "nomad"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--driver" in result.stderr and "swarm" in result.stderr


def test_make_passes_driver() -> None:
    result = subprocess.run(
        ["make", "-n", "sla", "stack-up", "stack-down", "DRIVER=swarm"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.stdout.count("--driver swarm") == 3, result.stdout
    plain = subprocess.run(["make", "-n", "sla"], capture_output=True, text=True, cwd=REPO)
    assert "--driver" not in plain.stdout
