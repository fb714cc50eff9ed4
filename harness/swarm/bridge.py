"""Ports a stack publishes, served on the host's loopback only, without Swarm's ingress mesh.

Swarm publishes a port on every interface of the host (the ingress mesh, or ``mode: host``, which has no
address either), and this project's rule is that nothing it deploys is reachable from another host. So the
Swarm driver publishes nothing: for each port the compose file publishes, a bridge (a plain container of
``harness/bridge:local``) is started on Docker's default bridge network with the port published on
``127.0.0.1`` only (plain Docker has ``host_ip``), joined to the service's stack network, and forwards each
connection to the service by name. The host's clients (load, faults, Prometheus queries) use the same
``127.0.0.1:port`` as under Compose.

Bridges carry ``harness.swarm.bridge=<project>`` (not the Compose project label: they are no service of
the stack, so the analyzers and the stack's exporter do not see them) and the Compose service label of the
service they publish for (the gateway analyzer's port source, given their label, counts the port as that
service's), a memory and CPU limit, no capabilities and a read-only root; the take-down and the sweep remove
them by that label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import docker.errors
import requests

from harness.containers import SERVICE_LABEL, labelled
from harness.errors import StackError
from harness.images import ImageBuild, build_images
from harness.swarm.stackfile import Published

BRIDGE_LABEL = "harness.swarm.bridge"
IMAGE_DIR = Path(__file__).resolve().parents[1] / "images" / "bridge"
IMAGE = ImageBuild("harness/bridge:local", IMAGE_DIR, IMAGE_DIR / "Dockerfile")
DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)


class BridgeEngine(Protocol):
    """The part of docker's client the bridges use (a fake in the unit tests)."""

    @property
    def containers(self) -> Any: ...

    @property
    def networks(self) -> Any: ...


def bridge_name(project: str, port: Published) -> str:
    return f"{project}-bridge-{port.service}-{port.host_port}"


class Bridges:
    def __init__(self, client: BridgeEngine, project: str, build: bool = True) -> None:
        self.client = client
        self.project = project
        self.label = f"{BRIDGE_LABEL}={project}"
        """What every bridge of the project carries (``key=value``)."""
        self.build = build

    def prepare(self) -> None:
        """Build the bridges' image if its inputs changed (as the stack's images are, before the deploy)."""
        if self.build:
            build_images([IMAGE])
            self.build = False

    def start(self, ports: Iterable[Published], networks: Mapping[str, Sequence[str]]) -> list[str]:
        """One bridge per port, each joined to the first stack network of its service; their names."""
        ports = list(ports)
        if ports:
            self.prepare()
        started = []
        for port in ports:
            name = bridge_name(self.project, port)
            network = f"{self.project}_{networks[port.service][0]}"
            try:
                container = self.client.containers.run(
                    IMAGE.image,
                    [str(port.target), port.service, str(port.target)],
                    name=name,
                    # The service's label too, so the gateway analyzer counts its port as the service's.
                    labels={BRIDGE_LABEL: self.project, SERVICE_LABEL: port.service},
                    ports={f"{port.target}/tcp": (port.host_ip, port.host_port)},
                    detach=True,
                    mem_limit="64m",
                    nano_cpus=500_000_000,
                    read_only=True,
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges"],
                )
                self.client.networks.get(network).connect(container)
            except DOCKER_ERRORS as exc:
                raise StackError(
                    f"bridge {name} for {port.host_ip}:{port.host_port} cannot start: {exc}"
                ) from exc
            started.append(name)
        return started

    def names(self) -> list[str]:
        return [c.name for c in labelled(self.client, self.label)]

    def remove(self) -> list[str]:
        """Remove every bridge of the project; their names."""
        removed = []
        for container in labelled(self.client, self.label):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
            except DOCKER_ERRORS as exc:
                raise StackError(f"bridge {container.name} cannot be removed: {exc}") from exc
            removed.append(container.name)
        return removed
