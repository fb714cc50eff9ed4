"""Container faults on the real engine: two throwaway sleepers in project "faulttest", every fault proven,
held, reverted; a SIGKILLed process that held a pause, cleaned by the sweep; a stopped container started by
the state sweep only if its restart policy says it always runs; nothing left behind."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.commands import clean
from harness.faults import FaultRefused, Journal, applied, build_fault, sweep
from harness.stack import Stack
from harness.state import STATE_DIR_ENV

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "faulttest.yml"
PROJECT = "faulttest"
NO_PROXY = "http://127.0.0.1:9"  # never called: container faults only


@pytest.fixture(scope="module")
def stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with throwaway_stack(FIXTURE, PROJECT) as running:
        yield running


def state(stack: Stack, service: str) -> dict:
    container = stack.container(service)
    container.reload()
    return container.attrs["State"]


def running(stack: Stack, service: str) -> bool:
    s = state(stack, service)
    return bool(s["Running"]) and not s["Paused"]


def test_the_restart_policy_is_the_reference_stacks(stack: Stack) -> None:
    policy = stack.container("alpha").attrs["HostConfig"]["RestartPolicy"]
    assert (policy["Name"], policy["MaximumRetryCount"]) == ("on-failure", 3)


@pytest.mark.parametrize("kind", ["container_kill", "container_stop"])
def test_kill_and_stop_hold_despite_the_restart_policy_and_revert(
    stack: Stack, tmp_path: Path, kind: str
) -> None:
    journal = Journal(tmp_path / "j.json")
    fault = build_fault(FaultSpec(kind, "alpha", (("timeout", 1.0),)), stack, NO_PROXY)
    with applied(fault, journal):
        assert not state(stack, "alpha")["Running"]
        assert running(stack, "beta")
        time.sleep(2)  # on-failure would have restarted it within this (measured: it does not)
        s = state(stack, "alpha")
        assert not s["Running"] and stack.container("alpha").attrs["RestartCount"] == 0
        assert fault.in_force()
        assert len(journal.entries()) == 1
    assert running(stack, "alpha")
    assert journal.entries() == []


def test_pause_freezes_and_revert_thaws(stack: Stack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    fault = build_fault(FaultSpec("container_pause", "beta"), stack, NO_PROXY)
    with applied(fault, journal):
        assert state(stack, "beta")["Paused"] and fault.in_force()
    assert running(stack, "beta")


def test_restart_is_proven_by_a_new_start(stack: Stack, tmp_path: Path) -> None:
    before = state(stack, "alpha")["StartedAt"]
    # no timeout: the container's own stop_grace_period (1 s) applies
    fault = build_fault(FaultSpec("container_restart", "alpha"), stack, NO_PROXY)
    with applied(fault, Journal(tmp_path / "j.json")):
        assert running(stack, "alpha") and state(stack, "alpha")["StartedAt"] != before


def test_a_second_fault_on_a_downed_container_is_refused_and_reverts_nothing_else(
    stack: Stack, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.json")
    kill = build_fault(FaultSpec("container_kill", "alpha"), stack, NO_PROXY)
    pause = build_fault(FaultSpec("container_pause", "alpha"), stack, NO_PROXY)
    with applied(kill, journal):
        with pytest.raises(FaultRefused, match="not running"), applied(pause, journal):
            pass
        assert not state(stack, "alpha")["Running"]  # the refused pause did not "revert" the kill
    assert running(stack, "alpha")


CHILD = textwrap.dedent(
    """
    import sys, time
    import docker
    from harness.faults import ContainerFault, Journal, applied
    container = docker.from_env().containers.get(sys.argv[1])
    with applied(ContainerFault("pause", "beta", container), Journal(sys.argv[2])):
        print("in force", flush=True)
        time.sleep(60)
    """
)


def test_a_sigkilled_run_leaves_a_pause_that_clean_removes(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))  # clean's lock: never the user's folder
    journal = Journal(tmp_path / "faults-in-force.json")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, stack.container("beta").id, str(journal.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "in force"
    finally:
        child.kill()
        child.wait(10)
    assert state(stack, "beta")["Paused"], "SIGKILL gave the child no chance to revert"
    assert [e.record.kind for e in journal.entries()] == ["container_pause"]

    parser = argparse.ArgumentParser()
    clean.add_arguments(parser)
    args = parser.parse_args(
        ["--stack", str(FIXTURE), "--project-name", PROJECT, "--journal", str(journal.path), "--no-proxy"]
    )
    assert clean.run(args) == 0
    assert running(stack, "beta")
    assert journal.entries() == [] and not journal.path.exists()


def test_the_state_sweep_unpauses_what_no_journal_lists(stack: Stack, tmp_path: Path) -> None:
    stack.container("alpha").pause()
    report = sweep(Journal(tmp_path / "none.json"), stack, None, settle_timeout=20)
    assert report.ok and report.cleaned == (f"unpaused container {stack.container('alpha').name}",)
    assert running(stack, "alpha")


def test_the_state_sweep_starts_a_stopped_container_only_if_it_always_runs(
    stack: Stack, tmp_path: Path
) -> None:
    alpha = stack.container("alpha")
    nothing = Journal(tmp_path / "none.json")
    try:
        alpha.kill()
        report = sweep(nothing, stack, None, settle_timeout=20)
        assert report.ok and report.cleaned == ()  # on-failure: it may exit by design
        assert not running(stack, "alpha")
        alpha.update(restart_policy={"Name": "unless-stopped"})
        report = sweep(nothing, stack, None, settle_timeout=20)
        assert report.ok and report.cleaned == (
            f"started container {alpha.name} (stopped, though it always runs)",
        )
        assert running(stack, "alpha")
    finally:
        alpha.update(restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
        alpha.start()
