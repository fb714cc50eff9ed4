"""A stand-in engine and sink for tests of the event follower: events are fed by hand."""

from __future__ import annotations

import queue
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

_END = object()


class FakeStream:
    """Yields what ``emit`` queued, until ``close`` (or ``fail``, which raises in the reader)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.closed = False

    def emit(self, event: Mapping[str, Any]) -> None:
        self._queue.put(event)

    def fail(self, error: Exception) -> None:
        self._queue.put(error)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, Mapping)
            yield item

    def close(self) -> None:
        self.closed = True
        self._queue.put(_END)


class FakeEngine:
    """Containers by id (their inspect attributes, changed by the test as the engine would) and one
    event stream per ``events`` call."""

    def __init__(self, containers: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.attrs: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (containers or {}).items()}
        self.streams: list[FakeStream] = []

    def events(self, project: str) -> FakeStream:
        stream = FakeStream()
        self.streams.append(stream)
        return stream

    def inspect(self, container_id: str) -> Mapping[str, Any] | None:
        return self.attrs.get(container_id)

    def containers(self, project: str) -> list[tuple[str, Mapping[str, Any]]]:
        return list(self.attrs.items())


class ListSink:
    """Keeps each push as exposition text; ``fail_pushes`` makes pushes raise OSError."""

    def __init__(self) -> None:
        self.pushes: list[str] = []
        self.deleted = 0
        self.fail_pushes = False

    def push(self, registry: CollectorRegistry) -> None:
        if self.fail_pushes:
            raise OSError("connection refused")
        self.pushes.append(generate_latest(registry).decode())

    def delete(self) -> None:
        self.deleted += 1


def container_attrs(
    service: str, project: str = "p", restart_count: int = 0, stop_timeout: int | None = 20
) -> dict[str, Any]:
    """Inspect attributes with what the tally reads."""
    return {
        "Config": {
            "Labels": {"com.docker.compose.project": project, "com.docker.compose.service": service},
            "StopTimeout": stop_timeout,
        },
        "State": {"Running": True},
        "RestartCount": restart_count,
    }


def event(action: str, container_id: str, service: str, at: float, **attributes: str) -> dict[str, Any]:
    """A decoded engine event as docker's SDK yields it."""
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": container_id, "Attributes": {"com.docker.compose.service": service, **attributes}},
        "time": int(at),
        "timeNano": int(at * 1e9),
    }
