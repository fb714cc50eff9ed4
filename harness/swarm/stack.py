"""``SwarmStack``: the ``harness.stack.Stack`` interface over ``docker stack deploy`` on a single-node Swarm.

Bring-up (rule 2.1) is the Compose driver's: phase by phase, each phase's services deployed (the stack file
holds the phases so far, so a redeploy leaves the running ones alone), then their tasks' health awaited;
a published port is bridged to loopback once its service is healthy (harness/swarm/bridge.py); each task's
container gets its compose ``cpuset`` (Swarm has none) when its phase is healthy and at every health gate.

A service's containers are found by the Compose labels the stack file gives them, so every reader of a
Compose stack reads this one. What differs is "the service's container": Swarm replaces a failed task by a
new task with a new container, and keeps the old one exited beside it. ``container(service)`` is the
container of the task Swarm wants running (the newest such task), so a fault resolved at inject and again at
revert follows the service, not a container id that no longer runs; ``revive(service)`` brings the service
back (waits for Swarm's own restart, or forces a new task when its policy gave up).

Take-down: bridges removed, ``docker stack rm``, its containers and networks awaited until gone, its
volumes removed, and the Swarm left if the harness initialised it (harness/swarm/mode.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import yaml
from docker.models.containers import Container

from harness.bringup import PhaseTiming
from harness.compose import Compose, Project, default_project_name
from harness.containers import PROJECT_LABEL
from harness.engine import ensure_engine
from harness.errors import StackError
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.polling import wait_until
from harness.stack import Leftovers, Stack, _say, require_compose_files
from harness.state import state_dir
from harness.swarm.bridge import DOCKER_ERRORS, Bridges
from harness.swarm.cli import DockerCli, docker_cli
from harness.swarm.mode import SwarmMode, marker_path
from harness.swarm.pinning import Pinner
from harness.swarm.stackfile import StackFile, stack_file

STACK_FILE = "swarm-stack.yml"
WANTED = ("ready", "running")
"""Desired states of a task Swarm means to run: ``ready`` while a restart waits out its delay."""
REVIVED_LABEL = "harness.revived"
"""On the containers of a task the harness forced (``revive``): harness.events.tally counts no restart."""
POLL_S = 0.5


class SwarmStack(Stack):
    def __init__(
        self,
        compose: Compose,
        project: Project,
        model: dict[str, Any],
        client: docker.DockerClient | None = None,
        cli: DockerCli = docker_cli,
        mode: SwarmMode | None = None,
        bridges: Bridges | None = None,
    ) -> None:
        super().__init__(compose, project, client)
        self.model = model
        self.cli = cli
        self.mode = mode or SwarmMode(cli)
        self.bridges = bridges or Bridges(self.client, project.name)
        self.publishers = self.bridges.label
        self._file: StackFile = stack_file(model, project.name, ())
        self.pinner = Pinner(self.client, project.name, lambda: self._file.updates, say=_say)

    @classmethod
    def from_files(
        cls, files: Sequence[Path], project_name: str | None = None, labels: StackLabels = DEFAULT_LABELS
    ) -> SwarmStack:
        require_compose_files(files)
        engine = ensure_engine()
        compose = Compose(engine.compose_command, files, project_name or default_project_name(files[0]))
        project = compose.load_project(labels)
        return cls(compose, project, yaml.safe_load(compose.run("config")) or {})

    # ---------------------------------------------------------------- the service's current container

    def _tasks(self, service: str) -> list[dict[str, Any]]:
        """The service's tasks Swarm wants running, newest first (none: it gave up, or it is not deployed).
        A replacement waiting out the policy's delay is desired ``ready``, not yet ``running``: it counts
        (measured: reviving a service during that delay forced a task by hand and hid restart-always's
        fourth restart)."""
        try:
            found = self.client.services.get(f"{self.project.name}_{service}")
            tasks = [t for t in found.tasks() if t.get("DesiredState") in WANTED]
        except docker.errors.NotFound:
            return []
        except DOCKER_ERRORS as exc:
            raise StackError(f"service {service}: its tasks cannot be read: {exc}") from exc
        return sorted(tasks, key=lambda t: str(t.get("CreatedAt", "")), reverse=True)

    def current_id(self, service: str) -> str | None:
        """The container id of the task Swarm wants running now; None while that task has no container."""
        for task in self._tasks(service):
            found = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID")
            return str(found) if found else None
        return None

    def container(self, service: str) -> Container:
        """The container of the service's current task, else (Swarm gave up on it) its newest container."""
        current = self.current_id(service)
        if current is not None:
            try:
                return self.client.containers.get(current)
            except docker.errors.NotFound:
                pass  # removed between the two reads: the newest below
        found = sorted(self.containers(service), key=lambda c: str(c.attrs.get("Created", "")), reverse=True)
        if not found:
            raise StackError(f"service {service} has no container")
        return found[0]

    def health(self, service: str) -> str:
        """As Stack.health; ``pending`` while Swarm has a task to run and it has no container yet, and an
        exited container is not final while Swarm still wants a task running (it is replacing it)."""
        if not self.containers(service) or (self._tasks(service) and self.current_id(service) is None):
            return "pending"
        status = super().health(service)
        if status in ("exited", "dead") and self._tasks(service):
            return "replacing"
        return status

    def wait_healthy(self, services: tuple[str, ...], timeout: float) -> None:
        super().wait_healthy(services, timeout)
        self.pin(services)

    def revive(self, service: str, timeout: float) -> bool:
        """The service running again: Swarm's own restart awaited, or a new task forced once Swarm has
        given up on it; True if anything had to be done."""
        if self._runs(service):
            return False
        forced = False

        def back() -> bool:
            nonlocal forced
            if self._runs(service):
                return True
            # Asked again at each poll: a container stopped a moment ago still has its task desired
            # running until Swarm notices the exit (measured: a graceful stop's revive right after it saw
            # that task, forced nothing, and Swarm, whose policy does not restart an exit 0, ran nothing).
            if not forced and not self._tasks(service):
                self._force(service)
                forced = True
            return False

        wait_until(
            back,
            timeout=timeout,
            interval=POLL_S,
            what=f"service {service} to run a task again",
            error=StackError,
        )
        return True

    def _force(self, service: str) -> None:
        """A new task by hand, not a restart by the policy: its container says so (the event tally counts it
        as a start, as Compose's `docker start`), with a value of its own so the tasks Swarm itself starts
        later are restarts again."""
        label = f"{REVIVED_LABEL}={time.time():.3f}"
        name = f"{self.project.name}_{service}"
        self.cli("service", "update", "--force", "--detach", "--container-label-add", label, name, timeout=60)

    def _policy(self, service: str) -> dict[str, Any]:
        try:
            found = self.client.services.get(f"{self.project.name}_{service}")
        except docker.errors.NotFound:
            return {}
        except DOCKER_ERRORS as exc:
            raise StackError(f"service {service}: its spec cannot be read: {exc}") from exc
        return dict(found.attrs.get("Spec", {}).get("TaskTemplate", {}).get("RestartPolicy") or {})

    def restart_condition(self, service: str) -> str:
        """Swarm's restart condition of the service: any (Swarm's default), on-failure or none."""
        return str(self._policy(service).get("Condition") or "any")

    def restart_delay(self, service: str) -> float:
        """Seconds Swarm waits before replacing a failed task (its default: 5 s)."""
        delay = self._policy(service).get("Delay")
        return 5.0 if delay is None else int(delay) / 1e9

    def _runs(self, service: str) -> bool:
        current = self.current_id(service)
        if current is None:
            return False
        try:
            state = self.client.containers.get(current).attrs["State"]
        except docker.errors.NotFound:
            return False
        return bool(state.get("Running")) and not state.get("Paused")

    def pin(self, services: Sequence[str]) -> None:
        """Give each service's current container what Swarm cannot: its compose cpuset and memory
        reservation (harness/swarm/pinning.py)."""
        for service in services:
            options = self._file.updates.get(service)
            if not options:
                continue
            try:
                self.container(service).update(**options)
            except docker.errors.NotFound:
                continue  # replaced meanwhile: the pinner updates its successor
            except DOCKER_ERRORS as exc:
                raise StackError(f"service {service}: {options} cannot be applied: {exc}") from exc

    # ---------------------------------------------------------------- up and down

    def up(
        self, health_timeout: float = 180.0, on_phase: Callable[[PhaseTiming], None] | None = None
    ) -> list[PhaseTiming]:
        owned = self.mode.ensure()
        _say("Swarm initialised by the harness" if owned else "deploying on the Swarm that was there")
        # The bridges' image before anything is deployed: not built in the middle of a phase's health wait.
        if stack_file(self.model, self.project.name, [s.name for s in self.project.services]).published:
            self.bridges.prepare()
        self.bridges.remove()  # a killed run's would hold the names and the loopback ports
        self.pinner.start()
        timings = []
        deployed: list[str] = []
        for phase, services in self.project.phases():
            names = tuple(s.name for s in services)
            deployed += names
            _say(f"phase {phase}: deploying {', '.join(names)}")
            started = time.time()
            self._deploy(deployed, timeout=health_timeout + 120)
            self.wait_healthy(names, timeout=health_timeout)
            self.bridges.start((p for p in self._file.published if p.service in names), self._file.networks)
            timing = PhaseTiming(phase, names, started, time.time(), self.container_starts(names))
            _say(f"phase {phase}: healthy in {timing.seconds:.1f}s")
            if on_phase:
                on_phase(timing)
            timings.append(timing)
        return timings

    def _deploy(self, services: Sequence[str], timeout: float) -> None:
        self._file = stack_file(self.model, self.project.name, services)
        path = state_dir(self.project.name) / STACK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self._file.document, sort_keys=False))
        self.cli(
            "stack", "deploy", "--resolve-image", "never", "-c", str(path), self.project.name, timeout=timeout
        )

    def down(self, keep_volumes: bool = False, timeout: float = 30) -> Leftovers:
        """Bridges, the stack, its volumes; then the Swarm left if the harness initialised it."""
        self.pinner.stop()
        self.bridges.remove()
        if self.mode.state() == "active":
            self._remove_stack(timeout * 4 + 60)
            wait_until(
                lambda: not self.leftovers(include_volumes=False),
                timeout=timeout * 4 + 60,
                interval=POLL_S,
                what=f"stack {self.project.name}'s containers and networks to go",
                error=StackError,
            )
        if not keep_volumes:
            for volume in self.client.volumes.list(filters={"label": f"{PROJECT_LABEL}={self.project.name}"}):
                volume.remove(force=True)
        self.mode.release()
        return self.leftovers(include_volumes=not keep_volumes)

    def _remove_stack(self, timeout: float) -> None:
        try:
            self.cli("stack", "rm", self.project.name, timeout=timeout)
        except StackError as exc:
            # `stack rm` removes the services, then at once their networks: one still attached to a task that
            # is shutting down is refused ("in use by task", seen in CI). Once the tasks' containers are gone,
            # removing the stack again takes what is left.
            if "in use by task" not in str(exc):
                raise
            wait_until(
                lambda: not self.leftovers(include_volumes=False).containers,
                timeout=timeout,
                interval=POLL_S,
                what=f"stack {self.project.name}'s containers to go",
                error=StackError,
            )
            self.cli("stack", "rm", self.project.name, timeout=timeout)

    def leftovers(self, include_volumes: bool = True) -> Leftovers:
        left = super().leftovers(include_volumes)
        return Leftovers((*left.containers, *self.bridges.names()), left.networks, left.volumes)


def release_crashed_swarm(stack: Stack) -> list[str]:
    """``harness clean`` after a crashed Swarm run: if the harness initialised the engine's Swarm (its marker
    is still there), the project's stack is taken down and the Swarm left, as the run would have. A Swarm
    that was there before has no marker: nothing is done to it (``harness down --driver swarm`` removes the
    stack)."""
    if not marker_path().exists():
        return []
    swarm = (
        stack if isinstance(stack, SwarmStack) else SwarmStack(stack.compose, stack.project, {}, stack.client)
    )
    left = swarm.down()
    lines = [f"stack {stack.project.name} removed from the Swarm a crashed run had initialised, Swarm left"]
    if left:
        lines.append(f"left behind: containers={left.containers} networks={left.networks}")
    return lines
