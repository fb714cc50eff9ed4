"""The pinner: each new task's container gets what Swarm cannot set (cpuset, memory reservation) as soon as
Swarm creates it, before it starts."""

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


def start(cid: str, service: str, action: str = "create") -> dict[str, Any]:
    return {"Action": action, "Actor": {"ID": cid, "Attributes": {"com.docker.compose.service": service}}}


def test_new_task_containers_get_their_services_cpuset() -> None:
    containers = {"a": FakeContainer(), "b": FakeContainer(), "c": FakeContainer(gone=True)}
    client = FakeClient([start("a", "redis"), start("b", "gateway"), start("c", "redis")], containers)
    settings = {"redis": {"cpuset_cpus": "0", "mem_reservation": 100663296}}
    pinner = Pinner(client, "refstack", lambda: settings)
    pinner.start()
    pinner.stop()
    assert client.filters["label"] == "com.docker.compose.project=refstack"
    assert client.filters["event"] == ["create", "start"]
    assert containers["a"].updates == [{"cpuset_cpus": "0", "mem_reservation": 100663296}]
    assert containers["b"].updates == []  # nothing Swarm misses in its compose definition
    assert pinner.pinned == [("redis", "create")]  # the one gone before it was updated is skipped
    assert client.stream.closed
