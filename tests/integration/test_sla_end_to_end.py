"""Issue 5, "Must show", end to end through `python -m harness run` on the real reference stack.

Each test runs one short scenario as a user would (a subprocess, its own reports folder) and checks the
exit code, the verdicts, and that no fault is left in force afterwards.
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
from harness.stack import Stack

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
REFERENCE_STACK = REPO / "stack" / "compose.yml"
MUTANTS = REPO / "stack" / "mutants"
FAULT_PROXY = "http://127.0.0.1:10010"


@pytest.fixture(scope="module")
def stack(reference_stack_factory: Callable[..., Stack]) -> Iterator[Stack]:
    """The reference stack, left running between these tests (each run keeps it), down at the end."""
    stack = reference_stack_factory()
    try:
        yield stack
    finally:
        stack.down()


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


def _wait_for_fault_in_force(journal: Path, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before its fault was injected"
        if Journal(journal).entries():
            return
        time.sleep(0.5)
    raise AssertionError("no fault came into force")


def _toxics(proxy: str) -> list[dict]:
    return httpx.get(f"{FAULT_PROXY}/proxies/{proxy}/toxics", timeout=5).json()


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


def test_sigint_during_a_fault_reverts_it(stack: Stack, tmp_path: Path) -> None:
    stack.wait_healthy(tuple(s.name for s in stack.project.services), timeout=240)
    process = _start(tmp_path, "redis-pause")
    journal = tmp_path / "faults-in-force.json"
    try:
        _wait_for_fault_in_force(journal, process)
        assert stack.health("redis") == "paused"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 2
    finally:
        process.kill()
    assert stack.health("redis") != "paused"
    assert Journal(journal).entries() == []


def test_sigkill_then_clean_leaves_no_fault(stack: Stack, tmp_path: Path) -> None:
    stack.wait_healthy(tuple(s.name for s in stack.project.services), timeout=240)
    process = _start(tmp_path, "redis-slow")
    journal = tmp_path / "faults-in-force.json"
    try:
        _wait_for_fault_in_force(journal, process)
        assert [t["name"] for t in _toxics("redis")] == ["harness-latency-downstream"]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert _toxics("redis"), "SIGKILL gives the harness no chance to revert"
    argv = [
        sys.executable,
        "-m",
        "harness",
        "clean",
        "--stack",
        str(REFERENCE_STACK),
        "--journal",
        str(journal),
    ]
    argv += ["--proxy-url", FAULT_PROXY]
    assert subprocess.run(argv, cwd=REPO, timeout=120, check=False).returncode == 0
    assert _toxics("redis") == []
    assert Journal(journal).entries() == []
