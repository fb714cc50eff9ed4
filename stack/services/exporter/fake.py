"""An in-memory Docker engine for tests: containers described in a few fields, JSON shaped like the API's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .dockerapi import DockerError, JsonObject


def _matches(labels: dict[str, str], label_filter: str) -> bool:
    key, sep, value = label_filter.partition("=")
    return key in labels and (not sep or labels[key] == value)


class FakeDocker:
    def __init__(self) -> None:
        self._inspect: dict[str, JsonObject] = {}
        self._stats: dict[str, JsonObject] = {}
        self.events: list[JsonObject] = []
        self.down = False
        self.stats_calls = 0
        self.host_cores = 2
        self.info_calls = 0

    def add(
        self,
        container_id: str,
        name: str,
        labels: dict[str, str] | None = None,
        *,
        status: str = "running",
        health: str | None = None,
        oom_killed: bool = False,
        restart_count: int = 0,
        host_config: dict[str, Any] | None = None,
        stats: JsonObject | None = None,
    ) -> None:
        state: dict[str, Any] = {"Status": status, "OOMKilled": oom_killed, "Paused": status == "paused"}
        if health is not None:
            state["Health"] = {"Status": health}
        self._inspect[container_id] = {
            "Id": container_id,
            "Name": "/" + name,
            "RestartCount": restart_count,
            "State": state,
            "Config": {"Image": "img:1", "Labels": dict(labels or {})},
            "HostConfig": {"Memory": 0, "MemoryReservation": 0, "NanoCpus": 0, **(host_config or {})},
        }
        if stats is not None:
            self._stats[container_id] = stats

    def remove(self, container_id: str) -> None:
        self._inspect.pop(container_id, None)

    def containers(self, label_filters: tuple[str, ...]) -> list[JsonObject]:
        if self.down:
            raise DockerError("docker /containers/json: connection refused")
        return [
            {"Id": cid, "Names": [data["Name"]]}
            for cid, data in self._inspect.items()
            if all(_matches(data["Config"]["Labels"], f) for f in label_filters)
        ]

    def inspect(self, container_id: str) -> JsonObject:
        if container_id not in self._inspect:
            raise DockerError(f"No such container: {container_id}", 404)
        return self._inspect[container_id]

    def stats(self, container_id: str) -> JsonObject:
        self.stats_calls += 1
        return self._stats.get(container_id, {"memory_stats": {}, "cpu_stats": {}})

    def info(self) -> JsonObject:
        self.info_calls += 1
        if self.down:
            raise DockerError("docker /info: connection refused")
        return {"NCPU": self.host_cores, "CgroupVersion": "1"}

    def oom_events(self, since: str) -> Iterator[JsonObject]:
        if self.down:
            raise DockerError("docker /events: connection refused")
        yield from self.events
