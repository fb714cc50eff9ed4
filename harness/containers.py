"""A compose project's containers on the engine, listed in one place.

Compose, and the Swarm driver's stack file, label every container with its project and service. Each part
of the harness that looks for a stack's containers (the stack, its published ports, its logs, its events,
the Swarm bridges) lists them here, so all of them survive the same race: the SDK lists, then reads each
container, and one removed in between (Swarm replacing a task, measured during a bring-up and a take-down)
would fail the whole listing with a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


class Containers(Protocol):
    def list(self, all: bool, filters: Mapping[str, Any], ignore_removed: bool) -> list[Any]: ...


class DockerClient(Protocol):
    """The part of docker's client listed here (a fake in the unit tests)."""

    @property
    def containers(self) -> Containers: ...


def labelled(client: DockerClient, *labels: str, running_only: bool = False) -> list[Any]:
    """The containers carrying every one of ``labels`` (``key=value`` or ``key``), stopped ones too unless
    ``running_only``; one removed while the engine answered is left out, not an error."""
    return client.containers.list(all=not running_only, filters={"label": list(labels)}, ignore_removed=True)


def project_containers(
    client: DockerClient, project: str, service: str | None = None, running_only: bool = False
) -> list[Any]:
    """The containers of ``project`` (of one ``service`` when given)."""
    labels = [f"{PROJECT_LABEL}={project}"] + ([f"{SERVICE_LABEL}={service}"] if service else [])
    return labelled(client, *labels, running_only=running_only)
