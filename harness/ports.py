"""The ports the stack's containers publish on the host, read from the engine while the run goes on.

``PortSource`` is the port the ``gateway`` analyzer reads through (rule 3.2: only the gateway is an entry
point); ``EnginePortSource`` the adapter over the docker SDK: every running container of one Compose project
(and the containers that publish for it), its ``NetworkSettings.Ports`` (what the engine bound, not what a
compose file asked for). Read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import docker.errors
import requests

from harness.containers import PROJECT_LABEL, SERVICE_LABEL, DockerClient, labelled
from harness.errors import MeasurementError

# Not harness.faults' DOCKER_ERRORS: the analyzers import this module, and harness.faults imports them.
_UNREADABLE = (docker.errors.DockerException, requests.RequestException)


@dataclass(frozen=True, slots=True)
class PublishedPort:
    service: str
    container: str
    host_ip: str
    """The host address it is bound to: ``0.0.0.0`` / ``::`` is every address."""
    host_port: int
    target: str
    """The container's side, as the engine names it: ``8080/tcp``."""

    def describe(self) -> str:
        host = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        return f"{self.service} {host}:{self.host_port}->{self.target}"


class PortSource(Protocol):
    def published(self) -> tuple[PublishedPort, ...]:
        """Every host port a running container of the stack publishes, now."""


class EnginePortSource:
    """``publishers``: the label (``key=value``) of containers outside the project that publish ports for its
    services, each naming the service in the Compose service label (the Swarm driver's loopback bridges)."""

    def __init__(self, client: DockerClient, project: str, publishers: str | None = None) -> None:
        self._client = client
        self._project = project
        self._filters = [f"{PROJECT_LABEL}={project}"] + ([publishers] if publishers else [])

    def published(self) -> tuple[PublishedPort, ...]:
        try:
            # Running ones only: a stopped container publishes nothing, whatever it would bind.
            found = [
                container
                for label in self._filters
                for container in labelled(self._client, label, running_only=True)
            ]
            return tuple(p for container in found for p in _ports(container.name, container.attrs))
        except _UNREADABLE as exc:
            raise MeasurementError(
                f"the engine does not list the containers of {self._project}: {exc}"
            ) from exc


def _ports(name: str, attrs: Mapping[str, Any]) -> list[PublishedPort]:
    service = (attrs.get("Config", {}).get("Labels") or {}).get(SERVICE_LABEL, name)
    bound = attrs.get("NetworkSettings", {}).get("Ports") or {}
    return [
        PublishedPort(service, name, b.get("HostIp") or "0.0.0.0", int(b["HostPort"]), target)
        for target, bindings in sorted(bound.items())
        for b in bindings or ()  # None: exposed, not published
        if b.get("HostPort")
    ]
