"""Issue 5, "Must show", end to end through `python -m harness run` on the real reference stack.

Each test runs one short scenario as a user would (a subprocess, its own reports folder) and checks the
exit code, the verdicts, and that no fault is left in force afterwards. The runs keep their journals and
locks in a state folder of this module's own (HARNESS_STATE_DIR), never the user's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.faults.journal import Journal
from harness.load.process import is_running
from harness.stack import Stack
from harness.state import STATE_DIR_ENV, journal_path

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
REFERENCE_STACK = REPO / "stack" / "compose.yml"
MUTANTS = REPO / "stack" / "mutants"
PUSHGATEWAY = "http://127.0.0.1:10403"


@pytest.fixture(scope="module")
def stack(
    reference_stack_factory: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The reference stack, left running between these tests (each run keeps it), down at the end."""
    saved = os.environ.get(STATE_DIR_ENV)
    os.environ[STATE_DIR_ENV] = str(tmp_path_factory.mktemp("state"))  # inherited by every run and clean
    stack = reference_stack_factory()
    try:
        yield stack
    finally:
        stack.down()
        if saved is None:
            del os.environ[STATE_DIR_ENV]
        else:
            os.environ[STATE_DIR_ENV] = saved


def _argv(reports: Path, *stack_files: Path, select: str) -> list[str]:
    files = [str(REFERENCE_STACK), *map(str, stack_files)]
    run = [
        sys.executable,
        "-m",
        "harness",
        "run",
        "--stack",
        *files,
        "--reports",
        str(reports),
        "--keep-stack",
    ]
    return [*run, "--", "-k", select]


def _harness(reports: Path, *stack_files: Path, select: str, timeout: float = 900) -> int:
    return subprocess.run(
        _argv(reports, *stack_files, select=select), cwd=REPO, timeout=timeout, check=False
    ).returncode


def _verdicts(reports: Path) -> dict[str, dict]:
    return {v["id"]: v for v in json.loads((reports / "verdicts.json").read_text())["verdicts"]}


def _start(reports: Path, select: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(_argv(reports, select=select), cwd=REPO)


def _wait_for_fault_in_force(
    process: subprocess.Popen[bytes], in_force: Callable[[], bool], timeout: float = 300
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before its fault was injected"
        if in_force():
            return
        time.sleep(0.5)
    raise AssertionError("no fault came into force")


def _pushgateway_runs() -> set[str]:
    groups = httpx.get(f"{PUSHGATEWAY}/api/v1/metrics", timeout=5).json()["data"]
    return {g["labels"].get("instance", "") for g in groups if g["labels"].get("job") == "locust"}


def test_breaker_threshold_10_mutant_is_caught_by_the_breaker_check(stack: Stack, tmp_path: Path) -> None:
    code = _harness(tmp_path, MUTANTS / "breaker-threshold-10.yml", select="redis-pause")
    verdicts = _verdicts(tmp_path)
    assert code == 1
    breaker = verdicts["breaker-redis"]
    assert breaker["status"] == "fail"
    opened_at = [v for k, v in breaker["measured"].items() if k.startswith("failures_at_open")]
    assert opened_at and all(value == 10 for value in opened_at), breaker["measured"]


def test_prometheus_stopped_mid_run_is_exit_2_naming_why(stack: Stack, tmp_path: Path) -> None:
    # The mutant above left the agents changed: bring the plain reference stack back first.
    stack.up(health_timeout=240)
    process = _start(tmp_path, "baseline")
    try:
        time.sleep(25)  # inside the baseline's steady window
        stack.container("prometheus").stop(timeout=5)
        assert process.wait(timeout=600) == 2
    finally:
        process.kill()
        stack.container("prometheus").start()
    errors = [v for v in _verdicts(tmp_path).values() if v["status"] == "error"]
    assert errors, "every verdict needs Prometheus"
    assert all("Prometheus" in v["evidence"]["reason"] for v in errors)


def test_sigint_during_a_fault_reverts_it_and_stops_the_load(stack: Stack, tmp_path: Path) -> None:
    stack.up(health_timeout=240)
    process = _start(tmp_path, "redis-pause")
    journal = Journal(journal_path(stack.project.name))
    try:
        _wait_for_fault_in_force(process, lambda: stack.health("redis") == "paused")
        [load] = journal.loads()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 2
    finally:
        process.kill()
    assert stack.health("redis") != "paused"
    assert journal.entries() == [] and journal.loads() == []
    assert not is_running(load)


def test_sigkill_during_a_container_kill_then_clean_brings_it_back_and_stops_the_load(
    stack: Stack, tmp_path: Path
) -> None:
    stack.up(health_timeout=240)
    process = _start(tmp_path, "redis-kill")  # reports in tmp_path: the journal is found all the same
    journal = Journal(journal_path(stack.project.name))
    try:
        _wait_for_fault_in_force(process, lambda: stack.health("redis") == "exited")
        [load] = journal.loads()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    killed = time.monotonic()
    assert stack.health("redis") == "exited", "SIGKILL gives the harness no chance to revert"
    # As the README says to run it: no --journal, no --proxy-url.
    argv = [sys.executable, "-m", "harness", "clean", "--stack", str(REFERENCE_STACK)]
    clean = subprocess.run(argv, cwd=REPO, timeout=120, check=False, capture_output=True, text=True)
    print(f"clean done {time.monotonic() - killed:.1f}s after the SIGKILL:\n{clean.stdout}{clean.stderr}")
    assert clean.returncode == 0, clean.stderr
    assert "cleaned: reverted kill service redis (container " in clean.stdout  # the journal's entry
    assert f"cleaned: deleted the Pushgateway group of run {load.run_id}" in clean.stdout
    assert stack.health("redis") in ("starting", "healthy")
    assert not is_running(load), "the killed run's Locust still loads the stack"
    assert load.run_id not in _pushgateway_runs()
    assert journal.entries() == [] and journal.loads() == []
