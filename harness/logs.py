"""The services' own log lines, read from the engine for a stretch of time and bounded in volume.

``LogSource`` is the port the ``structured_logs`` analyzer reads through; ``EngineLogSource`` the adapter
over the docker SDK (the containers of one Compose project, per service, every replica). Each container is
read as a stream and the reading stops at ``LogLimit``: the volume a noisy service wrote can not fill memory,
and a cap reached is said (``ServiceLogs.capped``), never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import docker.errors
import requests

from harness.containers import DockerClient, project_containers
from harness.errors import MeasurementError

_UNREADABLE = (docker.errors.DockerException, requests.RequestException)


@dataclass(frozen=True, slots=True)
class LogLimit:
    """How much of one container's log is read at most."""

    lines: int
    bytes: int


@dataclass(frozen=True, slots=True)
class LogLine:
    at: float
    """The engine's timestamp of the line (unix seconds), not the service's own."""
    text: str


@dataclass(frozen=True, slots=True)
class ServiceLogs:
    service: str
    lines: tuple[LogLine, ...]
    containers: int
    """How many containers of the service were read; 0: its logs are gone (or it never ran)."""
    capped: tuple[str, ...] = ()
    """The containers whose reading stopped at the limit: only their first lines were read."""


class LogSource(Protocol):
    def read(self, service: str, since: float, until: float, limit: LogLimit) -> ServiceLogs:
        """The lines every container of ``service`` wrote (stdout and stderr) in ``[since, until]``."""


class Container(Protocol):
    """The part of docker's ``Container`` read here."""

    name: str

    def logs(self, **options: Any) -> Iterable[bytes]: ...


class EngineLogSource:
    def __init__(self, client: DockerClient, project: str) -> None:
        self._client = client
        self._project = project

    def read(self, service: str, since: float, until: float, limit: LogLimit) -> ServiceLogs:
        try:
            found = project_containers(self._client, self._project, service)
        except _UNREADABLE as exc:
            raise MeasurementError(f"the engine does not list the containers of {service}: {exc}") from exc
        lines: list[LogLine] = []
        capped: list[str] = []
        read_from = 0
        for container in found:
            try:
                # A stream, not one answer: the reading stops at the limit without holding the rest.
                stream = container.logs(
                    stdout=True,
                    stderr=True,
                    timestamps=True,
                    stream=True,
                    follow=False,
                    since=since,
                    until=until,
                )
                read, full = _bounded(_split_lines(stream), limit)
            except docker.errors.NotFound:  # removed since it was listed: its logs are gone
                continue
            except _UNREADABLE as exc:
                raise MeasurementError(f"the logs of {container.name} cannot be read: {exc}") from exc
            read_from += 1
            lines += read
            if full:
                capped.append(container.name)
        return ServiceLogs(service, tuple(sorted(lines, key=lambda line: line.at)), read_from, tuple(capped))


def _split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Whole lines out of the stream's chunks, which need not end at a line's end."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *complete, rest = rest.split(b"\n")
        yield from complete
    if rest:
        yield rest


def _bounded(raw: Iterable[bytes], limit: LogLimit) -> tuple[list[LogLine], bool]:
    """At most ``limit`` lines and bytes of them; True when the limit stopped the reading."""
    lines: list[LogLine] = []
    size = 0
    for line in raw:
        size += len(line) + 1
        if len(lines) >= limit.lines or size > limit.bytes:
            return lines, True
        lines.append(_parse(line))
    return lines, False


def _parse(raw: bytes) -> LogLine:
    """``2026-11-30T02:47:59.123456789Z text`` (the engine's timestamps=True form) -> LogLine."""
    stamp, _, text = raw.decode("utf-8", "replace").partition(" ")
    return LogLine(_unix(stamp), text.rstrip("\r"))


def _unix(stamp: str) -> float:
    """RFC 3339 with nanoseconds, which datetime does not parse: the fraction is cut to microseconds."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(f"{whole}.{fraction[:6].ljust(6, '0')}+00:00")
    return moment.timestamp()
