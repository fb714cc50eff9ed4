"""A stand-in for docker's Container with the same state transitions, for tests of the fault layer."""

from __future__ import annotations

import itertools
from typing import Any

import docker.errors

_clock = itertools.count(1)


class FakeContainer:
    """Running, unpaused at first. Actions named in ``inert`` are accepted but change nothing (a fault
    that does not take effect); ``calls`` lists every action in order. ``restart_policy`` is what Docker
    shows as ``HostConfig.RestartPolicy.Name`` ("no", "on-failure", "always", "unless-stopped")."""

    def __init__(
        self, name: str, inert: frozenset[str] = frozenset(), gone: bool = False, restart_policy: str = "no"
    ) -> None:
        self.id = f"fake-{name}"
        self.name = name
        self.inert = inert
        self.gone = gone
        self.calls: list[str] = []
        self.attrs: dict[str, Any] = {
            "State": {},
            "Config": {"StopTimeout": 3},
            "HostConfig": {"RestartPolicy": {"Name": restart_policy, "MaximumRetryCount": 0}},
        }
        self.grace_given: list[int] = []
        self._set(running=True, paused=False, started=True)

    def _set(self, running: bool, paused: bool, started: bool = False) -> None:
        state = self.attrs["State"]
        if started:
            state["StartedAt"] = f"2026-01-01T00:00:{next(_clock):02d}Z"
        status = "paused" if paused else "running" if running else "exited"
        state.update(Running=running, Paused=paused, Status=status)

    def _do(self, action: str) -> bool:
        if self.gone:
            raise docker.errors.NotFound(f"No such container: {self.name}")
        self.calls.append(action)
        return action not in self.inert

    @property
    def running(self) -> bool:
        return bool(self.attrs["State"]["Running"]) and not self.attrs["State"]["Paused"]

    def reload(self) -> None:
        self._do("reload")

    def kill(self) -> None:
        if self._do("kill"):
            self._set(running=False, paused=False)

    def stop(self, timeout: int) -> None:
        self.grace_given.append(timeout)
        if self._do("stop"):
            self._set(running=False, paused=False)

    def restart(self, timeout: int) -> None:
        self.grace_given.append(timeout)
        if self._do("restart"):
            self._set(running=True, paused=False, started=True)

    def pause(self) -> None:
        if self._do("pause"):
            self._set(running=True, paused=True)

    def unpause(self) -> None:
        if self._do("unpause"):
            self._set(running=True, paused=False)

    def start(self) -> None:
        if self._do("start"):
            self._set(running=True, paused=False, started=True)


class FakeStack:
    """A ContainerSource over fake containers, found by name as compose services."""

    def __init__(self, *containers: FakeContainer) -> None:
        self.all = list(containers)

    def container(self, service: str) -> FakeContainer:
        return next(c for c in self.all if c.name == service)

    def containers(self, service: str | None = None, all: bool = True) -> list[FakeContainer]:
        return [c for c in self.all if service in (None, c.name)]
