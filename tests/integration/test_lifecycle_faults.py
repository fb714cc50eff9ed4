"""Lifecycle faults on the real engine, on throwaway sleepers (project "lifecycletest", restart
on-failure:3): a crash loop the engine restarts 3 times and then leaves down, brought back by the revert;
reverted by SIGINT, left by SIGKILL for `harness clean`; a graceful stop and start, interrupted by SIGINT
or SIGKILL during a stop that takes its whole grace (project "slowstoptest"); an idle window of
`python -m harness run` interrupted the same ways. `harness clean` reads a catalogue of its own, without a
Pushgateway: it must never delete the groups of a run on the reference stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cleaning import harness_clean

from harness.catalogue.model import FaultSpec
from harness.faults import Journal, applied, build_fault
from harness.polling import wait_until
from harness.stack import Stack
from harness.state import STATE_DIR_ENV, journal_path

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "faulttest.yml"
PROJECT = "lifecycletest"
SLOW_FIXTURE = Path(__file__).parent / "fixtures" / "slowstop.yml"
SLOW_PROJECT = "slowstoptest"
SLOW_GRACE_S = 8  # slowstop.yml's stop_grace_period
NO_PROXY = "http://127.0.0.1:9"
REPO = Path(__file__).resolve().parents[2]
SLAS = """
version: 1
defaults:
  prometheus: {url: "http://127.0.0.1:9"}
  endpoints: {gateway: "http://127.0.0.1:9", faultproxy: "http://127.0.0.1:9"}
  load: {users: 1, spawn_rate: 1, rate: 1}
load: {requests: [{name: health, path: /health}]}
scenarios:
  alpha-idle:
    windows: {steady: 2s, fault: 120s, recovery: 2s}
    fault: {kind: idle, target: alpha}
objectives:
  - id: health
    rule: "6.3"
    scenarios: all
    window: whole
    analyzer: {name: response_time, params: {threshold: 1s}}
"""


@pytest.fixture(scope="module")
def stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with throwaway_stack(FIXTURE, PROJECT) as running:
        yield running


@pytest.fixture(scope="module")
def slow_stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with throwaway_stack(SLOW_FIXTURE, SLOW_PROJECT) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A catalogue and a state folder (journals, locks) of the test's own."""
    (tmp_path / "slas.yaml").write_text(SLAS)
    return {**os.environ, STATE_DIR_ENV: str(tmp_path / "state")}


def clean(
    tmp_path: Path, env: dict[str, str], fixture: Path, project: str, *options: str
) -> subprocess.CompletedProcess[str]:
    return harness_clean(tmp_path / "slas.yaml", env, fixture, project, *options)


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
    fixture, project, journal, kind, service = sys.argv[1:]
    stack = Stack.from_files([Path(fixture)], project)
    attributes = (("interval", 0.5),) if kind == "crash_loop" else ()
    fault = build_fault(FaultSpec(kind, service, attributes), stack, "http://127.0.0.1:9")
    with applied(fault, Journal(journal)):
        print("in force", flush=True)
        time.sleep(60)
    """
)


def _spawn(fixture: Path, project: str, journal: Journal, kind: str, service: str) -> subprocess.Popen[str]:
    """A harness-like process that applies the fault and holds it, in the way of a run."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(fixture), project, str(journal.path), kind, service],
        stdout=subprocess.PIPE,
        text=True,
    )


def _child(stack: Stack, journal: Journal) -> subprocess.Popen[str]:
    child = _spawn(FIXTURE, PROJECT, journal, "crash_loop", "beta")
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


def test_a_sigkilled_crash_loop_is_left_for_clean(stack: Stack, tmp_path: Path, env: dict[str, str]) -> None:
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

    cleaned = clean(tmp_path, env, FIXTURE, PROJECT, "--journal", str(journal.path))
    assert cleaned.returncode == 0, cleaned.stderr
    assert up(stack, "beta") and journal.entries() == []


def test_sigterm_stops_with_the_grace_period_and_starts_again(stack: Stack, tmp_path: Path) -> None:
    before = attrs(stack, "alpha")["State"]["StartedAt"]
    fault = build_fault(FaultSpec("sigterm", "alpha"), stack, NO_PROXY)
    assert "1 s grace" in fault.describe()  # stop_grace_period: 1s
    with applied(fault, Journal(tmp_path / "j.json")):
        assert up(stack, "alpha") and attrs(stack, "alpha")["State"]["StartedAt"] != before


def _in_the_stop(stack: Stack, journal: Journal, child: subprocess.Popen[str]) -> float:
    """Once the child asked for the stop (its journal entry comes just before), 2 s into the grace: when
    the stop was asked (monotonic)."""
    wait_until(lambda: journal.entries() != [], timeout=60, interval=0.1, what="the sigterm journal entry")
    asked = time.monotonic()
    time.sleep(2)
    assert child.poll() is None and up(stack, "slow"), "the stop should still be in its grace"
    return asked


@pytest.mark.parametrize("kind", ["sigterm", "container_stop"])
def test_sigint_during_a_graceful_stop_brings_the_container_back_after_the_stop(
    slow_stack: Stack, tmp_path: Path, kind: str
) -> None:
    before = attrs(slow_stack, "slow")["State"]["StartedAt"]
    journal = Journal(tmp_path / "j.json")
    child = _spawn(SLOW_FIXTURE, SLOW_PROJECT, journal, kind, "slow")
    try:
        asked = _in_the_stop(slow_stack, journal, child)
        child.send_signal(signal.SIGINT)
        assert child.wait(SLOW_GRACE_S + 60) != 0
    finally:
        child.kill()
        child.wait(10)
    # past the grace: had the revert not waited for the engine's stop, the container would be down now
    time.sleep(max(0.0, asked + SLOW_GRACE_S + 2 - time.monotonic()))
    assert up(slow_stack, "slow") and attrs(slow_stack, "slow")["State"]["StartedAt"] != before
    assert journal.entries() == []


def test_sigkill_during_a_graceful_stop_leaves_it_for_clean(
    slow_stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    journal = Journal(tmp_path / "faults-in-force.json")
    child = _spawn(SLOW_FIXTURE, SLOW_PROJECT, journal, "sigterm", "slow")
    try:
        _in_the_stop(slow_stack, journal, child)
    finally:
        child.kill()
        child.wait(10)
    wait_until(
        lambda: not attrs(slow_stack, "slow")["State"]["Running"],
        timeout=SLOW_GRACE_S + 10,
        interval=0.2,
        what="the engine to finish the stop",
    )
    assert [e.record.kind for e in journal.entries()] == ["sigterm"]
    cleaned = clean(tmp_path, env, SLOW_FIXTURE, SLOW_PROJECT, "--journal", str(journal.path))
    assert cleaned.returncode == 0, cleaned.stderr
    assert "cleaned: reverted graceful stop of service slow" in cleaned.stdout
    assert up(slow_stack, "slow") and journal.entries() == []


def _idle_run(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Journal]:
    """``python -m harness run`` of the idle scenario, once its fault window began (the load stopped)."""
    argv = [
        *(sys.executable, "-m", "harness", "run", "--stack", str(FIXTURE), "--project-name", PROJECT),
        *("--slas", str(tmp_path / "slas.yaml"), "--reports", str(tmp_path / "reports"), "--keep-stack"),
        *("--", "-k", "alpha-idle"),
    ]
    run = subprocess.Popen(argv, cwd=REPO, env=env)
    journal = Journal(Path(env[STATE_DIR_ENV]) / PROJECT / journal_path(PROJECT).name)

    def idle() -> bool:
        assert run.poll() is None, "the run ended before its idle window"
        return journal.path.exists() and [e.record.kind for e in journal.entries()] == ["idle"]

    wait_until(idle, timeout=240, interval=0.2, what="the idle window")
    return run, journal


def test_sigint_during_an_idle_window_resumes_the_load_and_the_run_stops_it(
    stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    run, journal = _idle_run(tmp_path, env)
    try:
        time.sleep(2)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=120) != 0  # an interrupted run never exits 0
    finally:
        run.kill()
        run.wait()
    # resumed by the revert, stopped by the run on its way out: no load and no fault left
    assert not journal.path.exists() or (journal.entries() == [] and journal.loads() == [])


def test_sigkill_during_an_idle_window_leaves_its_entry_for_clean(
    stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    run, journal = _idle_run(tmp_path, env)
    try:
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        run.kill()
        run.wait()
    assert [e.record.kind for e in journal.entries()] == ["idle"], "SIGKILL gives the harness no chance"
    cleaned = clean(tmp_path, env, FIXTURE, PROJECT)
    assert cleaned.returncode == 0, cleaned.stderr
    assert "cleaned: idle on alpha: the load it paused is the journal's own entry, nothing else" in (
        cleaned.stdout
    )
    assert journal.entries() == [] and journal.loads() == []
