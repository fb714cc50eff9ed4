"""The engine's published ports (harness/ports.py), the read-only hook the gateway analyzer judges rule 3.2 by:
running containers of the project only (and those that publish for it, by their label), the bindings the engine
made (exposed-only ports are none), a failed read is a MeasurementError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import docker.errors
import pytest

from harness.errors import MeasurementError
from harness.faults.fake import FakeContainer
from harness.ports import EnginePortSource, PublishedPort


def container(name: str, service: str, ports: Mapping[str, Any] | None) -> FakeContainer:
    found = FakeContainer(name)
    found.attrs["Config"]["Labels"] = {"com.docker.compose.service": service}
    found.attrs["NetworkSettings"]["Ports"] = ports
    return found


@dataclass
class FakeContainers:
    found: list[FakeContainer]
    asked: list[tuple[bool, Mapping[str, Any]]] = field(default_factory=list)
    broken: bool = False

    def list(
        self, all: bool, filters: Mapping[str, Any], ignore_removed: bool = False
    ) -> list[FakeContainer]:
        self.asked.append((all, filters))
        if self.broken:
            raise docker.errors.APIError("engine gone")
        return self.found


@dataclass
class FakeClient:
    containers: FakeContainers


def test_the_engine_source_lists_the_bindings_of_the_projects_running_containers() -> None:
    gateway = container(
        "p-gateway-1",
        "gateway",
        {
            "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}, {"HostIp": "::1", "HostPort": "8080"}],
            "10402/tcp": None,  # exposed, not published
        },
    )
    agent = container("p-agent-1", "agent", {"10100/tcp": [{"HostIp": "", "HostPort": "10100"}]})
    quiet = container("p-redis-1", "redis", None)
    containers = FakeContainers([gateway, agent, quiet])
    published = EnginePortSource(FakeClient(containers), "p").published()
    assert published == (
        PublishedPort("gateway", "p-gateway-1", "127.0.0.1", 8080, "8080/tcp"),
        PublishedPort("gateway", "p-gateway-1", "::1", 8080, "8080/tcp"),
        PublishedPort("agent", "p-agent-1", "0.0.0.0", 10100, "10100/tcp"),
    )
    assert containers.asked == [(False, {"label": ["com.docker.compose.project=p"]})]
    assert [p.describe() for p in published[1:]] == [
        "gateway [::1]:8080->8080/tcp",
        "agent 0.0.0.0:10100->10100/tcp",
    ]


def test_containers_that_publish_for_the_project_count_as_the_service_they_name() -> None:
    # the Swarm driver's bridges: not of the Compose project, labelled with the service they publish for
    bridge = container(
        "p-bridge-gateway-8080", "gateway", {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    )
    task = container("p_gateway.1.x", "gateway", None)

    class ByLabel(FakeContainers):
        def list(
            self, all: bool, filters: Mapping[str, Any], ignore_removed: bool = False
        ) -> list[FakeContainer]:
            super().list(all, filters)
            return [bridge] if filters["label"] == ["harness.swarm.bridge=p"] else [task]

    containers = ByLabel([])
    published = EnginePortSource(FakeClient(containers), "p", "harness.swarm.bridge=p").published()
    assert published == (PublishedPort("gateway", "p-bridge-gateway-8080", "127.0.0.1", 8080, "8080/tcp"),)
    assert containers.asked == [
        (False, {"label": ["com.docker.compose.project=p"]}),
        (False, {"label": ["harness.swarm.bridge=p"]}),
    ]


def test_an_engine_that_cannot_be_read_is_a_measurement_error() -> None:
    with pytest.raises(MeasurementError, match="the engine does not list the containers of p: engine gone"):
        EnginePortSource(FakeClient(FakeContainers([], broken=True)), "p").published()
