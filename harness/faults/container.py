"""Container faults through the Docker API: kill, stop, pause, restart a compose service's container.

Each is proven by reading the container's state back: kill/stop -> ``State.Running`` false, pause ->
``State.Paused`` true, restart -> running with a new ``State.StartedAt``. Revert unpauses or starts the
container and waits until it runs (health is the runner's business, it waits for it separately).

Restart policies (measured on dockerd 20.10 with ``on-failure:3`` and ``unless-stopped``): Docker does not
restart a container after ``docker kill`` (SIGKILL, exit 137) nor after ``docker stop``: both mark it
stopped by hand, so the policy stays out of it and a kill or stop holds for the whole fault window without
the harness having to keep it down. A policy restarts only a container whose process dies on its own.
If some engine restarted it anyway, ``in_force()`` says so (the runner checks it at the end of the fault
window); the fault does not fight the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import docker.errors
import requests

from harness.errors import HarnessError
from harness.faults.base import FaultError, FaultRecord, FaultRefused
from harness.polling import wait_until

ContainerAction = Literal["kill", "stop", "pause", "restart"]
CONTAINER_ACTIONS: tuple[ContainerAction, ...] = ("kill", "stop", "pause", "restart")
DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)
POLL_INTERVAL = 0.1
DOCKER_STOP_TIMEOUT = 10


class ContainerHandle(Protocol):
    """The part of docker's ``Container`` the faults use (a fake in harness/faults/fake.py)."""

    id: str
    name: str
    attrs: dict[str, Any]

    def reload(self) -> None: ...
    def kill(self) -> None: ...
    def stop(self, timeout: int) -> None: ...
    def restart(self, timeout: int) -> None: ...
    def pause(self) -> None: ...
    def unpause(self) -> None: ...
    def start(self) -> None: ...


def container_state(container: ContainerHandle) -> dict[str, Any]:
    container.reload()
    return dict(container.attrs["State"])


def _runs(state: dict[str, Any]) -> bool:
    return bool(state.get("Running")) and not state.get("Paused")


def ensure_running(container: ContainerHandle, timeout: float) -> bool:
    """Unpause or start the container and wait until it runs; True if anything had to be done.

    A container that no longer exists has nothing to revert (False).
    """
    try:
        state = container_state(container)
        if _runs(state):
            return False
        if state.get("Paused"):
            container.unpause()
        else:
            container.start()
        wait_until(
            lambda: _runs(container_state(container)),
            timeout=timeout,
            interval=POLL_INTERVAL,
            what=f"container {container.name} to run again",
            error=FaultError,
        )
    except docker.errors.NotFound:
        return False
    except DOCKER_ERRORS as exc:
        raise FaultError(f"container {container.name} cannot be brought back: {exc}") from exc
    return True


@dataclass(slots=True)
class StopRequest:
    """``docker stop`` that knows when its request was cut short. A Ctrl-C during the stop interrupts the
    harness's request, not the engine's stop: a revert must wait for that stop to end (at most the grace,
    then SIGKILL) before it starts the container, or it would find it still running and leave it to exit
    moments later."""

    pending: bool = False
    """The stop was asked and its request has not returned: the engine may still be in the grace."""

    def stop(self, container: ContainerHandle, grace: int) -> None:
        self.pending = True
        container.stop(timeout=grace)
        self.pending = False  # the request returns once the engine's stop is over

    def await_end(self, container: ContainerHandle, grace: int, settle_timeout: float, what: str) -> None:
        """After an interrupted request: wait until the container has stopped (nothing to do otherwise)."""
        if not self.pending:
            return
        try:
            wait_until(
                lambda: not container_state(container).get("Running"),
                timeout=grace + settle_timeout,
                interval=POLL_INTERVAL,
                what=f"the interrupted stop of {what} to end",
                error=FaultError,
            )
        except docker.errors.NotFound:
            return  # removed meanwhile: ensure_running says there is nothing to bring back
        except DOCKER_ERRORS as exc:
            raise FaultError(f"reverting the stop of {what}: {exc}") from exc
        self.pending = False


@dataclass(frozen=True, slots=True)
class ContainerFault:
    action: ContainerAction
    target: str
    """The compose service."""
    container: ContainerHandle = field(compare=False, repr=False)
    stop_timeout: float | None = None
    """Seconds a stop or restart grants the process before SIGKILL (docker's ``-t``); None: the
    container's own (compose ``stop_grace_period``, else Docker's 10 s)."""
    settle_timeout: float = 30.0
    """Seconds the container's state may take to show the fault, or its revert."""
    revive: Callable[[str, float], bool] | None = field(default=None, compare=False, repr=False)
    """A service whose failed container is replaced, not restarted (a Swarm task: harness/faults/tasks.py):
    brings the service back. The fault is proven and held on the container it hit, and reverted on the
    service: that container is only unpaused, never started behind the orchestrator's back."""
    _stopping: StopRequest = field(default_factory=StopRequest, init=False, compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.action} service {self.target} (container {self.container.name})"

    def record(self) -> FaultRecord:
        return FaultRecord(f"container_{self.action}", self.target, self.container.id)

    def inject(self) -> None:
        try:
            before = container_state(self.container)
            if not _runs(before):
                raise FaultRefused(
                    f"cannot {self.describe()}: it is {before.get('Status')}, not running; the fault would prove nothing"
                )
            self._act()
            wait_until(
                lambda: self._took_effect(before, container_state(self.container)),
                timeout=self.settle_timeout,
                interval=POLL_INTERVAL,
                what=f"{self.describe()} to take effect",
                error=FaultError,
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} failed: {exc}") from exc

    def _act(self) -> None:
        match self.action:
            case "kill":
                self.container.kill()
            case "stop":
                self._stopping.stop(self.container, self._grace())
            case "pause":
                self.container.pause()
            case "restart":
                self.container.restart(timeout=self._grace())

    def _grace(self) -> int:
        if self.stop_timeout is not None:
            return round(self.stop_timeout)
        return int(self.container.attrs.get("Config", {}).get("StopTimeout") or DOCKER_STOP_TIMEOUT)

    def _shows_in(self, state: dict[str, Any]) -> bool:
        match self.action:
            case "kill" | "stop":
                return not state.get("Running")
            case "pause":
                return bool(state.get("Paused"))
            case "restart":  # an event, not a state: once back up, it has held
                return _runs(state)

    def _took_effect(self, before: dict[str, Any], now: dict[str, Any]) -> bool:
        restarted = self.action != "restart" or now.get("StartedAt") != before.get("StartedAt")
        return self._shows_in(now) and restarted

    def in_force(self) -> bool:
        try:
            return self._shows_in(container_state(self.container))
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: state cannot be read: {exc}") from exc

    def revert(self) -> None:
        what = f"service {self.target}"
        self._stopping.await_end(self.container, self._grace(), self.settle_timeout, what)
        if self.revive is None:
            ensure_running(self.container, self.settle_timeout)
            return
        try:
            if container_state(self.container).get("Paused"):
                self.container.unpause()
        except docker.errors.NotFound:
            pass  # replaced and removed: the service is all there is to bring back
        except DOCKER_ERRORS as exc:
            raise FaultError(f"container {self.container.name} cannot be unpaused: {exc}") from exc
        try:
            self.revive(self.target, self.settle_timeout)
        except HarnessError as exc:
            raise FaultError(f"service {self.target} cannot be brought back: {exc}") from exc
