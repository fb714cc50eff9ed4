"""Lifecycle faults: a crash loop, and a graceful stop and start as a rolling deploy does one.

``crash_loop`` kills the target's main process again each time it comes back, for the fault window, the
way a real crash happens. Not through the Docker API: ``docker kill`` marks a container stopped by hand, so
no restart policy restarts it (measured on dockerd 20.10, see container.py). Not by ``docker exec ... kill
1`` either: the kernel delivers to a PID namespace's init only the signals it handles, and from inside the
namespace not even SIGKILL (measured: ``exec sh -c 'kill -9 1'`` leaves ``sleep`` running). What works is
SIGKILL from the host's PID namespace to the container's main process (``State.Pid``): the engine then sees
an exit it did not cause, records exit code 137, and applies the restart policy (measured: on-failure:3
restarted it 3 times, then left it exited). So:

- the harness must run on the engine's host with the right to signal that process (root, or its owner); a
  remote engine is refused, because the pid is checked against the container's cgroup before any signal;
- the exit code is 137. A process exits with any other code only by itself (or, under an init such as
  ``init: true``, when its init passes on a signal it handles); the catalogue refuses other codes.

Proof: the engine's ``RestartCount`` rises. While in force a thread kills each comeback once it has run
``interval`` seconds. Revert: stop killing; once the engine is done restarting, start the container if its
policy gave up. After a SIGKILL of the harness the thread is gone with it; the journal entry makes
``harness clean`` start the container.

``sigterm`` is ``docker stop`` with the container's own grace (compose ``stop_grace_period``: SIGTERM, and
SIGKILL when the grace runs out), then ``docker start``; proven by the exit and a new start. How the
service took it (exit code, how long it took, its state) is for the graceful_shutdown analyzer. A Ctrl-C
during the stop is handled as ``container.StopRequest`` says: the revert waits for the engine's stop to end.

``idle`` is no fault on the stack: the load stops for the fault window (so the target can hibernate) and
starts again for the recovery window. The load is the runner's, so the runner builds this one
(``LoadPause``) over its load driver; a journal entry of it needs no revert (the load has its own entry).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import docker.errors

from harness.catalogue.model import FaultSpec, LoadLevel
from harness.faults.base import FaultError, FaultRecord, FaultRefused
from harness.faults.container import (
    DOCKER_ERRORS,
    POLL_INTERVAL,
    ContainerHandle,
    StopRequest,
    container_state,
    ensure_running,
)
from harness.load.driver import LoadDriver
from harness.polling import wait_until

LIFECYCLE_KINDS = ("crash_loop", "sigterm")
"""The lifecycle faults on a container; ``idle`` (the load paused) is the runner's."""
IDLE = "idle"
DEFAULT_INTERVAL = 1.0
JOIN_TIMEOUT = 10.0
DOCKER_STOP_TIMEOUT = 10


def _up(state: dict[str, Any]) -> bool:
    """Running for real: not paused, and not waiting for the engine to restart it."""
    return bool(state.get("Running")) and not state.get("Paused") and not state.get("Restarting")


class MainProcessKiller(Protocol):
    def __call__(self, container_id: str, pid: int) -> None:
        """SIGKILL the container's main process; FaultRefused when it is not this host's to signal."""


def kill_main_process(container_id: str, pid: int, proc: Path = Path("/proc")) -> None:
    """SIGKILL ``pid`` from the host, once its cgroup shows it is the container's (a remote engine's pid
    would name some unrelated process of this host)."""
    try:
        cgroups = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        cgroups = ""
    if container_id not in cgroups:
        raise FaultRefused(
            f"process {pid} of container {container_id[:12]} is not on this host (a remote engine?): "
            "crash_loop signals the container's main process and needs the harness on the engine's host"
        )
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return  # it died already: the crash happened
    except PermissionError as exc:
        raise FaultRefused(
            f"cannot signal process {pid} of container {container_id[:12]}: {exc} "
            "(crash_loop needs root, or the process's owner, on the engine's host)"
        ) from exc


@dataclass(slots=True)
class _Loop:
    """The crashing thread and what it found; mutable inside the frozen fault."""

    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: str | None = None
    crashes: int = 0


@dataclass(frozen=True, slots=True)
class CrashLoopFault:
    target: str
    container: ContainerHandle = field(compare=False, repr=False)
    interval: float = DEFAULT_INTERVAL
    """Seconds each comeback runs before it is killed again."""
    settle_timeout: float = 30.0
    kill: MainProcessKiller = field(default=kill_main_process, compare=False, repr=False)
    _loop: _Loop = field(default_factory=_Loop, init=False, compare=False, repr=False)

    def describe(self) -> str:
        return (
            f"crash loop of service {self.target} (container {self.container.name}): its main process "
            f"SIGKILLed {self.interval:g} s after each start"
        )

    def record(self) -> FaultRecord:
        return FaultRecord("crash_loop", self.target, self.container.id)

    def inject(self) -> None:
        try:
            before = self._attrs()
            policy = (before.get("HostConfig", {}).get("RestartPolicy") or {}).get("Name") or "no"
            if not _up(before["State"]):
                raise FaultRefused(f"cannot start a {self.describe()}: it is {before['State'].get('Status')}")
            if policy == "no":
                raise FaultRefused(
                    f"service {self.target} has no restart policy: a crash loop proves nothing"
                )
            count = int(before.get("RestartCount") or 0)
            self._crash(before)
            wait_until(
                lambda: int(self._attrs().get("RestartCount") or 0) > count,
                timeout=self.settle_timeout,
                interval=POLL_INTERVAL,
                what=f"the engine to restart service {self.target} after its crash (RestartCount above {count})",
                error=FaultError,
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} failed: {exc}") from exc
        thread = threading.Thread(target=self._run, name=f"crash-loop-{self.target}", daemon=True)
        self._loop.thread = thread
        thread.start()

    def _attrs(self) -> dict[str, Any]:
        self.container.reload()
        return self.container.attrs

    def _crash(self, attrs: dict[str, Any]) -> None:
        pid = int(attrs["State"].get("Pid") or 0)
        if pid > 0:
            self.kill(self.container.id, pid)
            self._loop.crashes += 1

    def _run(self) -> None:
        """Kill each comeback once it has run ``interval`` seconds, until stopped."""
        crashed_start: str | None = None
        seen_up: float | None = None
        while not self._loop.stop.wait(POLL_INTERVAL):
            try:
                attrs = self._attrs()
                state = attrs["State"]
                if not _up(state) or state.get("StartedAt") == crashed_start:
                    seen_up = None
                    continue
                seen_up = seen_up if seen_up is not None else time.monotonic()
                if time.monotonic() - seen_up >= self.interval:
                    crashed_start, seen_up = state.get("StartedAt"), None
                    self._crash(attrs)
            except (FaultError, *DOCKER_ERRORS) as exc:
                self._loop.error = str(exc)
                return

    def in_force(self) -> bool:
        thread = self._loop.thread
        return thread is not None and thread.is_alive() and self._loop.error is None

    def revert(self) -> None:
        """Stop killing; once the engine is done restarting, start the container if its policy gave up."""
        self._loop.stop.set()
        if self._loop.thread is not None:
            self._loop.thread.join(JOIN_TIMEOUT)

        # Docker may hold a restart back for up to a minute (its backoff doubles from 100 ms); a container
        # still restarting at the deadline counts as running below: Docker brings it back by itself.
        deadline = time.monotonic() + self.settle_timeout
        try:
            while container_state(self.container).get("Restarting") and time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL)
        except docker.errors.NotFound:
            return
        except DOCKER_ERRORS as exc:
            raise FaultError(f"service {self.target} cannot be brought back: {exc}") from exc
        ensure_running(self.container, self.settle_timeout)


@dataclass(frozen=True, slots=True)
class SigtermFault:
    target: str
    container: ContainerHandle = field(compare=False, repr=False)
    settle_timeout: float = 30.0
    _stopping: StopRequest = field(default_factory=StopRequest, init=False, compare=False, repr=False)

    @property
    def grace(self) -> int:
        """The container's own grace (compose ``stop_grace_period``), Docker's 10 s without one."""
        return int(self.container.attrs.get("Config", {}).get("StopTimeout") or DOCKER_STOP_TIMEOUT)

    def describe(self) -> str:
        return (
            f"graceful stop of service {self.target} (container {self.container.name}: SIGTERM, "
            f"{self.grace} s grace) and start"
        )

    def record(self) -> FaultRecord:
        return FaultRecord("sigterm", self.target, self.container.id)

    def inject(self) -> None:
        try:
            before = container_state(self.container)
            if not _up(before):
                raise FaultRefused(f"cannot make a {self.describe()}: it is {before.get('Status')}")
            self._stopping.stop(self.container, self.grace)
            stopped = container_state(self.container)
            if stopped.get("Running"):
                raise FaultError(f"{self.describe()}: still running after docker stop")
            self.container.start()

            def back() -> bool:
                now = container_state(self.container)
                return _up(now) and now.get("StartedAt") != before.get("StartedAt")

            wait_until(
                back,
                timeout=self.settle_timeout,
                interval=POLL_INTERVAL,
                what=f"service {self.target} to start again after its stop",
                error=FaultError,
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} failed: {exc}") from exc

    def in_force(self) -> bool:
        return True  # an event, not a state: once it has happened, it has held

    def revert(self) -> None:
        self._stopping.await_end(self.container, self.grace, self.settle_timeout, f"service {self.target}")
        ensure_running(self.container, self.settle_timeout)


Lifecycle = CrashLoopFault | SigtermFault


def build_lifecycle(spec: FaultSpec, container: ContainerHandle, settle_timeout: float = 30.0) -> Lifecycle:
    """``settle_timeout``: how long the engine may take to restart it (longer for a Swarm task, whose
    replacement waits out the policy's delay: harness/faults/tasks.py)."""
    if spec.kind == "crash_loop":
        return CrashLoopFault(
            spec.target,
            container,
            interval=spec.attribute("interval", DEFAULT_INTERVAL) or 0.0,
            settle_timeout=settle_timeout,
        )
    if spec.kind == "sigterm":
        return SigtermFault(spec.target, container, settle_timeout=settle_timeout)
    raise FaultError(f"{spec.kind} is no lifecycle fault on a container")


def restore_lifecycle(record: FaultRecord, container: ContainerHandle, settle_timeout: float) -> Lifecycle:
    """A journalled lifecycle fault, able to revert: its killing thread died with the run that started it."""
    if record.kind == "crash_loop":
        return CrashLoopFault(record.target, container, settle_timeout=settle_timeout)
    return SigtermFault(record.target, container, settle_timeout=settle_timeout)


@dataclass(slots=True)
class _Resumed:
    done: bool = False


@dataclass(frozen=True, slots=True)
class LoadPause:
    """``idle``: no load during the fault window; the same load level again, under ``run_id``, after it."""

    target: str
    """The service expected to hibernate."""
    driver: LoadDriver = field(compare=False, repr=False)
    level: LoadLevel
    resume_for: float
    """Seconds the resumed load runs (the recovery window; the driver's own slack on top)."""
    run_id: str
    _resumed: _Resumed = field(default_factory=_Resumed, init=False, compare=False, repr=False)

    def describe(self) -> str:
        return f"idle: no load, for service {self.target} to hibernate"

    def record(self) -> FaultRecord:
        return FaultRecord(IDLE, self.target, self.run_id)

    def inject(self) -> None:
        self.driver.stop()  # proven by its return: stop() never raises and returns once the load is gone

    def in_force(self) -> bool:
        return not self._resumed.done

    def revert(self) -> None:
        if not self._resumed.done:
            self._resumed.done = True
            self.driver.start(self.level, self.resume_for, self.run_id)
