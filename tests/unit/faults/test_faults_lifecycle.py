"""Lifecycle faults on a fake container that restarts by its policy as Docker does: a crash loop proven by
the restart count, held until the policy gives up, reverted by a start; a graceful stop with the
container's own grace and a start; both refused when they would prove nothing, restored from the journal;
a Ctrl-C during the graceful stop (or a container_stop's) brings the container back once the engine's stop
is over, and a stop a killed run left is started by the sweep."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import (
    FaultError,
    FaultRecord,
    FaultRefused,
    Journal,
    applied,
    build_fault,
    restore_fault,
    sweep,
)
from harness.faults.container import ContainerFault
from harness.faults.fake import FakeContainer, FakeStack
from harness.faults.lifecycle import CrashLoopFault, SigtermFault, kill_main_process
from harness.polling import wait_until


class PolicyContainer(FakeContainer):
    """Restarts after a crash as its restart policy says (Docker's RestartCount, reset by a start by hand)."""

    def __init__(self, name: str, policy: str = "on-failure", max_retries: int = 3) -> None:
        super().__init__(name, restart_policy=policy)
        self.attrs["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] = max_retries
        self.attrs["RestartCount"] = 0
        self.attrs["State"].update(Pid=4242, Restarting=False, ExitCode=0)
        self.crashes = 0

    def crash(self) -> None:
        """The main process died (SIGKILL from the host)."""
        self.crashes += 1
        policy = self.attrs["HostConfig"]["RestartPolicy"]
        count, most = self.attrs["RestartCount"], policy["MaximumRetryCount"]
        if policy["Name"] in ("always", "unless-stopped") or (
            policy["Name"] == "on-failure" and (most == 0 or count < most)
        ):
            self.attrs["RestartCount"] = count + 1
            self._set(running=True, paused=False, started=True)
        else:
            self._set(running=False, paused=False)
            self.attrs["State"]["ExitCode"] = 137

    def start(self) -> None:
        super().start()
        self.attrs["RestartCount"] = 0


def crash_loop(container: PolicyContainer, interval: float = 0.05) -> CrashLoopFault:
    return CrashLoopFault(
        container.name,
        container,
        interval=interval,
        settle_timeout=2,
        kill=lambda cid, pid: container.crash(),
    )


def test_a_crash_loop_is_proven_by_a_restart_and_held_until_the_policy_gives_up() -> None:
    container = PolicyContainer("agent")
    fault = crash_loop(container)
    fault.inject()
    try:
        assert container.attrs["RestartCount"] >= 1
        wait_until(lambda: not container.attrs["State"]["Running"], timeout=5, interval=0.05, what="gave up")
        assert container.attrs["RestartCount"] == 3 and container.crashes == 4
        assert fault.in_force()
    finally:
        fault.revert()
    assert container.running and not fault.in_force()
    fault.revert()  # twice is harmless
    assert container.calls.count("start") == 1


def test_an_unbounded_policy_keeps_restarting_until_reverted() -> None:
    container = PolicyContainer("agent", policy="always")
    fault = crash_loop(container)
    fault.inject()
    try:
        wait_until(lambda: container.crashes >= 6, timeout=5, interval=0.05, what="six crashes")
    finally:
        fault.revert()
    crashes = container.crashes
    time.sleep(0.3)
    assert container.crashes == crashes, "no crash after the revert"
    assert container.running and "start" not in container.calls  # the engine brought it back itself


def test_a_crash_loop_reverts_on_ctrl_c_and_leaves_no_journal_entry(tmp_path: Path) -> None:
    container = PolicyContainer("agent")
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(KeyboardInterrupt), applied(crash_loop(container), journal):
        wait_until(lambda: not container.attrs["State"]["Running"], timeout=5, interval=0.05, what="gave up")
        raise KeyboardInterrupt
    assert container.running and journal.entries() == []


def test_no_restart_policy_is_refused_before_any_crash() -> None:
    container = PolicyContainer("agent", policy="no")
    with pytest.raises(FaultRefused, match="no restart policy"):
        crash_loop(container).inject()
    assert container.crashes == 0


def test_a_container_that_does_not_run_is_refused() -> None:
    container = PolicyContainer("agent")
    container.stop(timeout=1)
    with pytest.raises(FaultRefused, match="exited"):
        crash_loop(container).inject()
    assert container.crashes == 0


def test_a_restart_count_that_never_rises_is_not_proven() -> None:
    container = PolicyContainer("agent")
    fault = CrashLoopFault("agent", container, settle_timeout=0.3, kill=lambda cid, pid: None)
    with pytest.raises(FaultError, match="RestartCount above 0"):
        fault.inject()


def test_the_host_kill_refuses_a_pid_that_is_not_the_containers(tmp_path: Path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "cgroup").write_text("12:memory:/user.slice\n")
    with pytest.raises(FaultRefused, match="not on this host"):
        kill_main_process("abc123", 77, proc=tmp_path)
    with pytest.raises(FaultRefused, match="not on this host"):
        kill_main_process("abc123", 78, proc=tmp_path)  # no such process at all


def test_the_host_kill_sigkills_the_process_its_cgroup_names(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / str(child.pid)).mkdir()
        (tmp_path / str(child.pid) / "cgroup").write_text("4:pids:/docker/abc123def\n")
        kill_main_process("abc123def", child.pid, proc=tmp_path)
        assert child.wait(10) == -9
    finally:
        child.kill()


def test_sigterm_stops_with_the_containers_own_grace_and_starts_again() -> None:
    container = PolicyContainer("agent")
    started = container.attrs["State"]["StartedAt"]
    fault = SigtermFault("agent", container, settle_timeout=1)
    fault.inject()
    assert container.grace_given == [3]  # the fake's StopTimeout: compose stop_grace_period
    assert container.running and container.attrs["State"]["StartedAt"] != started
    assert container.calls.index("stop") < container.calls.index("start")
    assert fault.in_force()
    fault.revert()
    assert container.calls.count("start") == 1


def test_sigterm_on_a_stopped_container_is_refused_and_one_that_does_not_stop_fails() -> None:
    down = PolicyContainer("agent")
    down.stop(timeout=1)
    with pytest.raises(FaultRefused):
        SigtermFault("agent", down).inject()
    stubborn = PolicyContainer("agent", policy="always")
    stubborn.inert = frozenset({"stop"})
    with pytest.raises(FaultError, match="still running"):
        SigtermFault("agent", stubborn).inject()


class InterruptedStop(PolicyContainer):
    """``docker stop`` cut short by Ctrl-C: the request raises at once, the engine's stop goes on through
    the grace and ends ``grace_s`` later."""

    def __init__(self, name: str, grace_s: float) -> None:
        super().__init__(name)
        self.grace_s = grace_s
        self.engine_stop: threading.Timer | None = None

    def stop(self, timeout: int) -> None:
        self.grace_given.append(timeout)
        self.calls.append("stop")
        self.engine_stop = threading.Timer(
            self.grace_s, self._set, kwargs={"running": False, "paused": False}
        )
        self.engine_stop.start()
        raise KeyboardInterrupt


@pytest.mark.parametrize("kind", ["sigterm", "container_stop"])
def test_ctrl_c_during_the_graceful_stop_starts_the_container_once_the_engines_stop_is_over(
    tmp_path: Path, kind: str
) -> None:
    container = InterruptedStop("agent", grace_s=0.3)
    journal = Journal(tmp_path / "j.json")
    fault = (
        SigtermFault("agent", container, settle_timeout=2)
        if kind == "sigterm"
        else ContainerFault("stop", "agent", container, settle_timeout=2)
    )
    with pytest.raises(KeyboardInterrupt), applied(fault, journal):
        pass
    assert container.engine_stop is not None
    container.engine_stop.join()  # had the revert not waited, the stop would end now, leaving it down
    assert container.running and container.calls.index("stop") < container.calls.index("start")
    assert journal.entries() == []


def test_a_graceful_stop_a_killed_run_left_is_started_by_the_sweep(tmp_path: Path) -> None:
    container = PolicyContainer("agent")  # on-failure: only the journal says it must run
    journal = Journal(tmp_path / "j.json")
    fault = SigtermFault("agent", container)
    journal.add(fault.record(), pid=4242, since=0.0)
    container.stop(timeout=3)  # ... and the harness is SIGKILLed between the stop and the start
    report = sweep(journal, FakeStack(container), None, settle_timeout=1)
    assert report.ok, report.errors
    assert report.cleaned == (
        "reverted graceful stop of service agent (container agent: SIGTERM, 3 s grace) and start"
        " (journal, pid 4242)",
    )
    assert container.running and journal.entries() == []


def test_built_from_the_catalogue_and_restored_from_the_journal() -> None:
    container = PolicyContainer("agent")
    stack = FakeStack(container)
    built = build_fault(FaultSpec("crash_loop", "agent", (("interval", 0.5), ("exit_code", 137))), stack, "")
    assert isinstance(built, CrashLoopFault) and built.interval == 0.5
    assert isinstance(build_fault(FaultSpec("sigterm", "agent"), stack, ""), SigtermFault)
    container._set(running=False, paused=False)  # a killed run's crash loop: the policy gave up
    restored = restore_fault(FaultRecord("crash_loop", "agent", container.id), stack, settle_timeout=1)
    assert restored is not None
    restored.revert()
    assert container.running
    assert restore_fault(FaultRecord("sigterm", "agent", "gone-id"), stack) is None
