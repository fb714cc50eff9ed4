"""Services whose container is replaced, not restarted: a Swarm task that fails is replaced by a new task
with a new container, and the old one stays exited beside it.

A fault on such a service must not hold on to a container id: it resolves the service's current container
when it is injected and again when it is reverted, and its revert brings the *service* back (the stack's
``revive``: the orchestrator's own restart awaited, or a new task forced once its policy gave up), never
``docker start`` on a task's old container behind the orchestrator's back.

``ServiceContainer`` is the ``ContainerHandle`` of such a service for the faults that follow it through its
restarts (the crash loop kills each comeback; a graceful stop waits for the service to come back): every
``reload`` re-resolves the current container, ``start`` revives the service, and its attributes say what a
single container's would: ``RestartCount``, the restarts the orchestrator made since the handle was made
(new containers started), and ``HostConfig.RestartPolicy.Name``, the service's restart condition
(``any`` -> always, ``on-failure``, ``none`` -> no).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from harness.faults.container import ContainerHandle

POLICY_NAMES = {"any": "always", "on-failure": "on-failure", "none": "no"}


@runtime_checkable
class TaskSource(Protocol):
    """A stack whose services run as replaceable tasks (harness.swarm.stack.SwarmStack)."""

    def container(self, service: str) -> ContainerHandle: ...

    def revive(self, service: str, timeout: float) -> bool: ...

    def restart_condition(self, service: str) -> str:
        """The service's restart condition: any, on-failure or none."""
        ...

    def restart_delay(self, service: str) -> float:
        """Seconds the orchestrator waits before it replaces a failed task."""
        ...


def task_settle(tasks: TaskSource, service: str, base: float = 30.0) -> float:
    """How long a fault on a task may wait for the orchestrator: its restart delay, then ``base``."""
    return base + tasks.restart_delay(service)


class ServiceContainer:
    """The current container of ``service`` on ``tasks``, followed through its replacements."""

    def __init__(self, tasks: TaskSource, service: str, settle_timeout: float = 30.0) -> None:
        self.tasks = tasks
        self.service = service
        self.settle_timeout = settle_timeout
        self._current: ContainerHandle = tasks.container(service)
        self._seen: list[str] = [self._current.id]
        self.id, self.name = self._current.id, self._current.name
        self.attrs: dict[str, Any] = {}
        self._refresh()

    def _refresh(self) -> None:
        self.id, self.name = self._current.id, self._current.name
        attrs = dict(self._current.attrs)
        started_at = str((attrs.get("State") or {}).get("StartedAt") or "")
        started = bool(started_at) and not started_at.startswith("0001-")  # Docker's "never started"
        if self._current.id not in self._seen and started:
            self._seen.append(self._current.id)
        attrs["RestartCount"] = len(self._seen) - 1
        host = dict(attrs.get("HostConfig") or {})
        condition = self.tasks.restart_condition(self.service)
        host["RestartPolicy"] = {"Name": POLICY_NAMES.get(condition, condition), "MaximumRetryCount": 0}
        attrs["HostConfig"] = host
        self.attrs = attrs

    def reload(self) -> None:
        self._current = self.tasks.container(self.service)
        self._current.reload()
        self._refresh()

    def kill(self) -> None:
        self._current.kill()

    def stop(self, timeout: int) -> None:
        self._current.stop(timeout=timeout)

    def restart(self, timeout: int) -> None:
        self._current.restart(timeout=timeout)

    def pause(self) -> None:
        self._current.pause()

    def unpause(self) -> None:
        self._current.unpause()

    def start(self) -> None:
        """The service back: not ``docker start`` on a task's old container, which the orchestrator does
        not know of."""
        self.tasks.revive(self.service, self.settle_timeout)
