"""The cpuset pinner: each new task's container of a service with a compose cpuset gets it at its start."""

from __future__ import annotations

from typing import Any

import docker.errors

from harness.swarm.pinning import Pinner


class FakeContainer:
    def __init__(self, gone: bool = False) -> None:
        self.updates: list[dict[str, Any]] = []
        self.gone = gone

    def update(self, **options: Any) -> None:
        if self.gone:
            raise docker.errors.NotFound("gone")
        self.updates.append(options)


class FakeStream(list):
    closed = False

    def close(self) -> None:
        self.closed = True


class FakeClient:
    def __init__(self, events: list[dict[str, Any]], containers: dict[str, FakeContainer]) -> None:
        self.stream = FakeStream(events)
        self.found = containers
        self.filters: dict[str, Any] = {}
        self.containers = self

    def events(self, decode: bool, filters: dict[str, Any]) -> FakeStream:
        self.filters = filters
        return self.stream

    def get(self, key: str) -> FakeContainer:
        return self.found[key]


def start(cid: str, service: str) -> dict[str, Any]:
    return {"Action": "start", "Actor": {"ID": cid, "Attributes": {"com.docker.compose.service": service}}}


def test_new_task_containers_get_their_services_cpuset() -> None:
    containers = {"a": FakeContainer(), "b": FakeContainer(), "c": FakeContainer(gone=True)}
    client = FakeClient([start("a", "redis"), start("b", "gateway"), start("c", "redis")], containers)
    pinner = Pinner(client, "refstack", lambda: {"redis": "0"})
    pinner.start()
    pinner.stop()
    assert client.filters["label"] == "com.docker.compose.project=refstack"
    assert containers["a"].updates == [{"cpuset_cpus": "0"}]
    assert containers["b"].updates == []  # no cpuset in its compose definition
    assert pinner.pinned == [("redis", "0")]  # the one gone before it was pinned is skipped
    assert client.stream.closed
