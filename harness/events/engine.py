"""The engine port of the event follower: an event stream, an inspect and a listing, for one project.

``DockerEngine`` is the real adapter (the docker SDK); ``harness.events.fake.FakeEngine`` the tests'.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import docker
import docker.errors

from harness.containers import PROJECT_LABEL, project_containers


class EventStream(Protocol):
    def __iter__(self) -> Iterator[Mapping[str, Any]]: ...

    def close(self) -> None:
        """End the iteration (from another thread)."""


class Engine(Protocol):
    def events(self, project: str) -> EventStream:
        """The project's container events from now on; subscribed when this returns."""

    def inspect(self, container_id: str) -> Mapping[str, Any] | None:
        """The container's inspect attributes, None when it is gone."""

    def containers(self, project: str) -> list[tuple[str, Mapping[str, Any]]]:
        """Every container of the project, running or not: (id, inspect attributes)."""


class DockerEngine:
    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self.client = client or docker.from_env()

    def events(self, project: str) -> EventStream:
        filters = {"type": "container", "label": f"{PROJECT_LABEL}={project}"}
        stream: EventStream = self.client.events(decode=True, filters=filters)
        return stream

    def inspect(self, container_id: str) -> Mapping[str, Any] | None:
        try:
            return dict(self.client.api.inspect_container(container_id))
        except docker.errors.NotFound:
            return None

    def containers(self, project: str) -> list[tuple[str, Mapping[str, Any]]]:
        return [(c.id, c.attrs) for c in project_containers(self.client, project)]
