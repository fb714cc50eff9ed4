"""Listing a project's containers (harness/containers.py): by the compose labels, stopped ones too unless
asked otherwise, and always with ``ignore_removed`` so that a container removed between the engine's list
and the SDK's read of it (Swarm replacing a task) is left out instead of failing the listing with a 404."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.containers import PROJECT_LABEL, SERVICE_LABEL, labelled, project_containers


@dataclass
class RecordingContainers:
    asked: list[tuple[bool, Mapping[str, Any], bool]] = field(default_factory=list)

    def list(self, all: bool, filters: Mapping[str, Any], ignore_removed: bool) -> list[Any]:
        self.asked.append((all, filters, ignore_removed))
        return ["c1"]


@dataclass
class RecordingClient:
    containers: RecordingContainers = field(default_factory=RecordingContainers)


def test_a_project_lists_stopped_containers_too_and_ignores_removed_ones() -> None:
    client = RecordingClient()
    assert project_containers(client, "demo") == ["c1"]
    assert client.containers.asked == [(True, {"label": [f"{PROJECT_LABEL}=demo"]}, True)]


def test_one_service_of_a_project() -> None:
    client = RecordingClient()
    project_containers(client, "demo", "redis", running_only=True)
    assert client.containers.asked == [
        (False, {"label": [f"{PROJECT_LABEL}=demo", f"{SERVICE_LABEL}=redis"]}, True)
    ]


def test_any_label_set() -> None:
    client = RecordingClient()
    labelled(client, "harness.swarm.bridge=demo", "harness.helper")
    assert client.containers.asked == [
        (True, {"label": ["harness.swarm.bridge=demo", "harness.helper"]}, True)
    ]
