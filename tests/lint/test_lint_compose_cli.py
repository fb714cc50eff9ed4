"""Which Compose CLI the lint judges for: --compose, else the one this machine has, else v2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _lint_support import REPO, service, with_service, write

from harness.lint import compose_cli


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty machine: a bin directory alone on PATH, no docker config, no system plugin directories."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setattr(compose_cli, "_PLUGIN_DIRS", ())
    return bin_dir


def _tool(path: Path, first_line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(first_line + b"\n")
    path.chmod(0o755)


def test_nothing_installed_means_v2(machine: Path) -> None:
    assert compose_cli.detect() == "v2"


def test_docker_compose_1_script_means_v1(machine: Path) -> None:
    _tool(machine / "docker-compose", b"#!/usr/bin/python3")
    assert compose_cli.detect() == "v1"


def test_docker_compose_2_binary_means_v2(machine: Path) -> None:
    _tool(machine / "docker-compose", b"\x7fELF\x02\x01\x01")
    assert compose_cli.detect() == "v2"


def test_the_docker_compose_plugin_wins(machine: Path, tmp_path: Path) -> None:
    _tool(machine / "docker-compose", b"#!/usr/bin/python3")
    _tool(machine / "docker", b"\x7fELF")
    _tool(tmp_path / "docker-config" / "cli-plugins" / "docker-compose", b"\x7fELF")
    assert compose_cli.detect() == "v2"


def _run(*args: str, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "DOCKER_CONFIG": "/nonexistent"}
    return subprocess.run(
        [sys.executable, "-m", "harness", "lint", *args],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False, env=env,
    )  # fmt: skip


def test_help_says_the_default_and_what_it_is_here() -> None:
    done = _run("--help", path=os.environ["PATH"])
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "--compose {v1,v2}" in text
    assert "Default: the one this machine has" in text and "else v2)" in text
    assert f"{compose_cli.detect()} here" in text


def test_the_default_follows_the_machine(tmp_path: Path) -> None:
    """mem_limit with deploy.resources.limits lacking memory: v1 drops the limit, v2 refuses the file."""
    svc = service(mem_limit="512M")
    del svc["deploy"]["resources"]["limits"]["memory"]
    path = str(write(tmp_path / "compose.yml", with_service("worker", svc)))
    bin_dir = tmp_path / "bin"
    _tool(bin_dir / "docker-compose", b"#!/usr/bin/python3")
    as_v1 = _run(path, path=str(bin_dir))
    assert as_v1.returncode == 1 and "docker-compose v1 drops mem_limit 512 MiB" in as_v1.stdout
    as_v2 = _run(path, path=str(tmp_path / "empty"))
    assert as_v2.returncode == 2 and "docker compose v2 refuses distinct values" in as_v2.stderr
    assert _run(path, "--compose", "v2", path=str(bin_dir)).returncode == 2
