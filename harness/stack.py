"""Bring a Compose project up in deployment phases with health gates, and take it down cleanly.

Rule 2.1: services start phase by phase (label ``sutazai.phase``), and every service of a phase must be
healthy (or, without a healthcheck, running) before the next phase starts. A container that exits or
restarts while we wait fails the gate at once, with its last log lines, instead of running out the clock.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from harness.bringup import ContainerStart, PhaseTiming, engine_instant
from harness.compose import Compose, Project, default_project_name
from harness.containers import PROJECT_LABEL, project_containers
from harness.engine import ensure_engine
from harness.errors import InputError, StackError
from harness.labels import DEFAULT_LABELS, StackLabels

DEFAULT_STACK = "stack/compose.yml"


@dataclass(frozen=True, slots=True)
class Leftovers:
    containers: tuple[str, ...]
    networks: tuple[str, ...]
    volumes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes)


def require_compose_files(files: Sequence[Path]) -> None:
    """Fail with one line naming the first compose file that does not exist."""
    for path in files:
        if not path.is_file():
            raise InputError(str(path), None, "no such compose file")


def _say(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


class Stack:
    """A Compose project driven through the CLI, observed through the Docker API."""

    publishers: str | None = None
    """The label of containers outside the project that publish ports for its services (harness.ports)."""

    def __init__(self, compose: Compose, project: Project, client: docker.DockerClient | None = None) -> None:
        self.compose = compose
        self.project = project
        self.client = client or docker.from_env()

    @classmethod
    def from_files(
        cls, files: Sequence[Path], project_name: str | None = None, labels: StackLabels = DEFAULT_LABELS
    ) -> Stack:
        """The stack these compose files describe, on an engine that answers (started if need be); its
        services' phases, tiers and pools are read from ``labels``."""
        require_compose_files(files)
        engine = ensure_engine()
        compose = Compose(engine.compose_command, files, project_name or default_project_name(files[0]))
        return cls(compose, compose.load_project(labels))

    def containers(self, service: str | None = None, all: bool = True) -> list[Container]:
        return project_containers(self.client, self.project.name, service, running_only=not all)

    def container(self, service: str) -> Container:
        found = self.containers(service)
        if not found:
            raise StackError(f"service {service} has no container")
        return found[0]

    def up(
        self, health_timeout: float = 180.0, on_phase: Callable[[PhaseTiming], None] | None = None
    ) -> list[PhaseTiming]:
        """Start every phase in order, waiting for its health gate; return how long each took."""
        timings = []
        for phase, services in self.project.phases():
            names = tuple(s.name for s in services)
            _say(f"phase {phase}: starting {', '.join(names)}")
            started = time.time()
            self.compose.run("up", "-d", "--no-build", *names, timeout=health_timeout + 120)
            self.wait_healthy(names, timeout=health_timeout)
            timing = PhaseTiming(phase, names, started, time.time(), self.container_starts(names))
            _say(f"phase {phase}: healthy in {timing.seconds:.1f}s")
            if on_phase:
                on_phase(timing)
            timings.append(timing)
        return timings

    def container_starts(self, services: tuple[str, ...]) -> tuple[ContainerStart, ...]:
        """When the engine started each container of these services (every replica counts)."""
        return tuple(
            ContainerStart(service, c.name, engine_instant(c.attrs["State"]["StartedAt"]))
            for service in services
            for c in self.containers(service, all=False)
        )

    def health(self, service: str) -> str:
        """healthy | unhealthy | starting | running (no healthcheck) | the container's state."""
        container = self.container(service)
        container.reload()
        state = container.attrs["State"]
        if state.get("Status") != "running":
            return str(state.get("Status"))
        if state.get("Paused"):
            return "paused"
        health = state.get("Health")
        return str(health["Status"]) if health else "running"

    def is_ready(self, service: str, status: str) -> bool:
        """Healthy, or running when the service has no healthcheck to pass."""
        return status == "healthy" or (
            status == "running" and not self.project.service(service).has_healthcheck
        )

    def wait_healthy(self, services: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = set(services)
        while pending:
            for name in sorted(pending):
                status = self.health(name)
                if self.is_ready(name, status):
                    pending.discard(name)
                elif status in ("exited", "dead"):
                    raise StackError(f"service {name} is {status}: {self._log_tail(name)}")
            # `unhealthy` is not final: a service whose fault was just reverted is unhealthy until its
            # next probe passes. Only the deadline decides, and then says what each one showed.
            if pending and time.monotonic() > deadline:
                states = "; ".join(f"{n}={self.health(n)}: {self._log_tail(n, 2)}" for n in sorted(pending))
                raise StackError(f"not healthy after {timeout:g}s: {states}")
            if pending:
                time.sleep(0.5)

    def _log_tail(self, service: str, lines: int = 5) -> str:
        try:
            text = self.container(service).logs(tail=lines).decode(errors="replace").strip()
        except docker.errors.APIError:
            return "(no logs)"
        return " | ".join(text.splitlines()[-lines:]) or "(no logs)"

    def down(self, keep_volumes: bool = False, timeout: float = 30) -> Leftovers:
        """Stop and remove everything of the project; return what is still there (should be nothing)."""
        args = ["down", "--remove-orphans", "--timeout", str(int(timeout))]
        if not keep_volumes:
            args.append("--volumes")
        self.compose.run(*args, timeout=timeout * 4 + 60)
        return self.leftovers(include_volumes=not keep_volumes)

    def leftovers(self, include_volumes: bool = True) -> Leftovers:
        label = {"label": f"{PROJECT_LABEL}={self.project.name}"}
        return Leftovers(
            containers=tuple(c.name for c in project_containers(self.client, self.project.name)),
            networks=tuple(n.name for n in self.client.networks.list(filters=label)),
            volumes=tuple(v.name for v in self.client.volumes.list(filters=label)) if include_volumes else (),
        )
