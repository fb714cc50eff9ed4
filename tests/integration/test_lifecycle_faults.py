"""Lifecycle faults on the real engine, on throwaway sleepers (project "lifecycletest", restart
on-failure:3): a crash loop the engine restarts 3 times and then leaves down, brought back by the revert;
reverted by SIGINT, left by SIGKILL for `harness clean`; a graceful stop and start."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.commands import clean
from harness.faults import Journal, applied, build_fault
from harness.polling import wait_until
from harness.stack import Stack
from harness.state import STATE_DIR_ENV

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "faulttest.yml"
PROJECT = "lifecycletest"
NO_PROXY = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with throwaway_stack(FIXTURE, PROJECT) as running:
        yield running


def attrs(stack: Stack, service: str) -> dict:
    container = stack.container(service)
    container.reload()
    return container.attrs


def up(stack: Stack, service: str) -> bool:
    state = attrs(stack, service)["State"]
    return bool(state["Running"]) and not state["Restarting"] and not state["Paused"]


def test_a_crash_loop_is_restarted_three_times_then_left_down_and_reverted(
    stack: Stack, tmp_path: Path
) -> None:
    fault = build_fault(FaultSpec("crash_loop", "alpha", (("interval", 0.5),)), stack, NO_PROXY)
    with applied(fault, Journal(tmp_path / "j.json")):
        assert attrs(stack, "alpha")["RestartCount"] >= 1  # the proof
        wait_until(
            lambda: attrs(stack, "alpha")["State"]["Status"] == "exited",
            timeout=30,
            interval=0.2,
            what="on-failure:3 to give up",
        )
        state = attrs(stack, "alpha")
        assert state["RestartCount"] == 3 and state["State"]["ExitCode"] == 137
        assert fault.in_force() and up(stack, "beta")
    assert up(stack, "alpha")


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.catalogue.model import FaultSpec
    from harness.faults import Journal, applied, build_fault
    from harness.stack import Stack
    stack = Stack.from_files([Path(sys.argv[1])], sys.argv[2])
    fault = build_fault(FaultSpec("crash_loop", "beta", (("interval", 0.5),)), stack, "http://127.0.0.1:9")
    with applied(fault, Journal(sys.argv[3])):
        print("in force", flush=True)
        time.sleep(60)
    """
)


def _child(stack: Stack, journal: Journal) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(FIXTURE), PROJECT, str(journal.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "in force"
    return child


def test_sigint_during_a_crash_loop_reverts_it(stack: Stack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    child = _child(stack, journal)
    try:
        wait_until(
            lambda: attrs(stack, "beta")["RestartCount"] >= 2, timeout=30, interval=0.2, what="two restarts"
        )
        child.send_signal(signal.SIGINT)
        assert child.wait(60) != 0
    finally:
        child.kill()
    assert up(stack, "beta") and journal.entries() == []


def test_a_sigkilled_crash_loop_is_left_for_clean(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    journal = Journal(tmp_path / "faults-in-force.json")
    child = _child(stack, journal)
    try:
        wait_until(
            lambda: attrs(stack, "beta")["State"]["Status"] == "exited",
            timeout=30,
            interval=0.2,
            what="on-failure:3 to give up",
        )
    finally:
        child.kill()
        child.wait(10)
    assert [e.record.kind for e in journal.entries()] == ["crash_loop"]
    assert not attrs(stack, "beta")["State"]["Running"], "nothing brought it back"

    parser = argparse.ArgumentParser()
    clean.add_arguments(parser)
    args = parser.parse_args(
        ["--stack", str(FIXTURE), "--project-name", PROJECT, "--journal", str(journal.path), "--no-proxy"]
    )
    assert clean.run(args) == 0
    assert up(stack, "beta") and journal.entries() == []


def test_sigterm_stops_with_the_grace_period_and_starts_again(stack: Stack, tmp_path: Path) -> None:
    before = attrs(stack, "alpha")["State"]["StartedAt"]
    fault = build_fault(FaultSpec("sigterm", "alpha"), stack, NO_PROXY)
    assert "1 s grace" in fault.describe()  # stop_grace_period: 1s
    with applied(fault, Journal(tmp_path / "j.json")):
        assert up(stack, "alpha") and attrs(stack, "alpha")["State"]["StartedAt"] != before
