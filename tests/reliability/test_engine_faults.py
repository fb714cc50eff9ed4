"""The engine fails under a run (issue 8, "Proof, repeated"): Prometheus killed, the fault proxy killed, dockerd
restarted, each while the run's own fault is in force. The run must end with exit 2 naming the cause, and no
fault may be left in force afterwards. Run by `make trials` (HARNESS_TRIALS set), with the interrupt trials.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from _run_watch import STACK, announced, harness, stack_leftovers, start_run, wait_no_load_generator

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _only_in_trials() -> Iterator[None]:
    if not os.environ.get("HARNESS_TRIALS"):
        pytest.skip("engine faults run from `make trials` (HARNESS_TRIALS set)")
    assert harness("up", "--stack", str(STACK), "--no-build") == 0
    yield
    harness("down", "--stack", str(STACK))


def _container(service: str) -> docker.models.containers.Container:
    client = docker.from_env()
    label = f"com.docker.compose.service={service}"
    return client.containers.list(
        all=True, filters={"label": [label, "com.docker.compose.project=refstack"]}
    )[0]


def _restart_engine() -> None:
    # As an operator's `systemctl restart docker`: the engine stops (its containers with it) and comes back.
    assert harness("engine", "stop") == 0, "the test needs the dockerd that the harness started"
    assert harness("engine", "ensure") == 0


def _fail_under_fault(tmp_path: Path, scenario: str, break_it: Callable[[], None]) -> str:
    """Run ``scenario`` keeping the stack, break the engine once its fault is in force; the run's output."""
    process, output = start_run(tmp_path, scenario, "--keep-stack")
    try:
        assert output.wait_for(announced(scenario, "fault"), process, timeout=300), output.tail()
        break_it()
        assert process.wait(timeout=600) == 2, output.tail(20)
    finally:
        if process.poll() is None:
            process.kill()
    return "".join(output.lines)


def _nothing_left_in_force() -> None:
    assert harness("up", "--stack", str(STACK), "--no-build") == 0, "the stack comes back healthy"
    assert wait_no_load_generator(timeout=20) == []
    assert stack_leftovers(docker.from_env(), "up") == []


def test_prometheus_killed_during_a_fault(tmp_path: Path) -> None:
    output = _fail_under_fault(tmp_path, "trial-pause", lambda: _container("prometheus").kill())
    assert "Prometheus" in output
    assert _container("redis").status != "paused"
    _nothing_left_in_force()


def test_fault_proxy_killed_during_a_proxy_fault(tmp_path: Path) -> None:
    output = _fail_under_fault(tmp_path, "trial-slow", lambda: _container("faultproxy").kill())
    assert "proxy" in output.lower()
    _nothing_left_in_force()


def test_dockerd_restarted_during_a_fault(tmp_path: Path) -> None:
    output = _fail_under_fault(tmp_path, "trial-pause", _restart_engine)
    assert "engine" in output.lower() or "docker" in output.lower()
    _nothing_left_in_force()
