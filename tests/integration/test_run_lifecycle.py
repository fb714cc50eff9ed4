"""A run never leaves the stack half up and two runs never share one: through `python -m harness run`, on
a throwaway stack whose only service never becomes healthy (fixtures/unhealthy.yml)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import Stack
from harness.state import STATE_DIR_ENV, ProjectLock

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
UNHEALTHY = Path(__file__).parent / "fixtures" / "unhealthy.yml"
PROJECT = "harness-unhealthy"
# Nothing answers on port 9: this run has no fault proxy, Pushgateway or Prometheus, and never gets to them.
SLAS = """
version: 1
defaults:
  prometheus: {url: "http://127.0.0.1:9"}
  endpoints: {gateway: "http://127.0.0.1:9", faultproxy: "http://127.0.0.1:9"}
load: {requests: [{name: health, path: /health}]}
scenarios:
  baseline: {windows: {steady: 5s}}
objectives:
  - id: health
    rule: "8.1"
    scenarios: all
    window: whole
    analyzer: {name: response_time, params: {threshold: 1s}}
"""


@pytest.fixture
def stack() -> Iterator[Stack]:
    stack = Stack.from_files([UNHEALTHY], PROJECT)
    stack.down()
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, STATE_DIR_ENV: str(tmp_path / "state")}


def _argv(tmp_path: Path, reports: str, health_timeout: float) -> list[str]:
    (tmp_path / "slas.yaml").write_text(SLAS)
    return [
        *(sys.executable, "-m", "harness", "run", "--stack", str(UNHEALTHY), "--project-name", PROJECT),
        *("--slas", str(tmp_path / "slas.yaml"), "--reports", str(tmp_path / reports)),
        *("--", "--health-timeout", f"{health_timeout:g}"),
    ]


def test_a_stack_that_never_gets_healthy_is_exit_2_naming_it_and_nothing_is_left(
    stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    started = time.monotonic()
    run = subprocess.run(
        _argv(tmp_path, "reports", 8), cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    print(f"failed health gate to exit: {time.monotonic() - started:.1f}s")
    assert run.returncode == 2, run.stderr
    assert "could not run: not healthy after 8s: never-healthy=unhealthy" in run.stderr
    assert "Traceback" not in run.stderr
    assert not stack.leftovers(), "the run left its half-up stack behind"


def _wait_for_holder(lock: ProjectLock, pid: int, run: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert run.poll() is None, "the first run ended before taking the lock"
        try:
            if json.loads(lock.path.read_text())["pid"] == pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError("the first run never took the lock")


def test_a_second_run_on_a_busy_stack_exits_2_naming_the_holder_and_touches_nothing(
    stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    first = subprocess.Popen(
        _argv(tmp_path, "first", 120),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_holder(ProjectLock(PROJECT, tmp_path / "state" / PROJECT), first.pid, first)
        second = subprocess.run(
            _argv(tmp_path, "second", 120), cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 2, second.stderr
        print(second.stderr)
        refusal = [line for line in second.stderr.splitlines() if "is in use by" in line]
        assert refusal[-1].startswith(f"harness: stack project {PROJECT} is in use by pid {first.pid} (")
        assert " -m harness run --stack " in refusal[-1] and " UTC" in refusal[-1]
        written = list((tmp_path / "second").rglob("*")) if (tmp_path / "second").exists() else []
        assert written == [], "a refused run must write no reports (the folder may be the holder's)"
        assert first.poll() is None and stack.containers(), "the refused run touched the holder's stack"
        # Ctrl-C while the first is still waiting for health: it takes down what it brought up.
        first.send_signal(signal.SIGINT)
        _, said = first.communicate(timeout=120)
        assert first.returncode == 2
        assert f"taking stack {PROJECT} down: it did not come up" in said
    finally:
        first.kill()
        first.wait()
    assert not stack.leftovers(), "an interrupted bring-up left the stack half up"
