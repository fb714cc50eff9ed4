"""Background collection: every interval, all matching containers concurrently; scrapes read the result."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from refstack_common.jsonlog import fields

from .dockerapi import DockerApi, DockerError
from .exposition import render_containers, render_gauges
from .samples import ContainerSample, sample_from_docker

log = logging.getLogger("exporter")


@dataclass(frozen=True, slots=True)
class Snapshot:
    samples: tuple[ContainerSample, ...]
    taken_at: float  # unix seconds
    duration_s: float


def _since(time_nano: int) -> str:
    """Docker's "since" for the nanosecond after an event, so a reconnect does not count it twice."""
    time_nano += 1
    return f"{time_nano // 1_000_000_000}.{time_nano % 1_000_000_000:09d}"


class OomWatcher:
    """Counts `oom` events per container id from the docker event stream (reconnecting on errors)."""

    def __init__(self, api: DockerApi, clock: Callable[[], float] = time.time) -> None:
        self._api = api
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._since = _since(int(clock() * 1e9))
        self.connected = False

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def record(self, event: dict[str, Any]) -> None:
        actor = event.get("Actor")
        container_id = str(event.get("id") or (actor.get("ID") if isinstance(actor, dict) else "") or "")
        if not container_id:
            return
        with self._lock:
            self._counts[container_id] = self._counts.get(container_id, 0) + 1
        time_nano = event.get("timeNano")
        if isinstance(time_nano, int):
            self._since = _since(time_nano)
        log.info("oom event", extra=fields(container_id=container_id[:12]))

    def run(self, stop: threading.Event, retry_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.connected = True
                for event in self._api.oom_events(self._since):
                    self.record(event)
                    if stop.is_set():
                        return
            except DockerError as exc:
                log.warning("docker event stream failed", extra=fields(error=str(exc)))
            self.connected = False
            stop.wait(retry_s)


class Collector:
    def __init__(
        self,
        api: DockerApi,
        label_filters: tuple[str, ...],
        workers: int,
        oom: OomWatcher,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._label_filters = label_filters
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="docker")
        self._oom = oom
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.collections = 0
        self.errors = 0
        self.docker_up = False
        self.host_cores: int | None = None
        """The engine's host's cores (docker info NCPU), read once it answers; it does not change."""

    @property
    def snapshot(self) -> Snapshot | None:
        with self._lock:
            return self._snapshot

    def _sample(self, summary: dict[str, Any]) -> ContainerSample | None:
        container_id = str(summary.get("Id", ""))
        try:
            inspect = self._api.inspect(container_id)
        except DockerError as exc:
            if exc.status != 404:  # 404: removed since it was listed
                log.warning("inspect failed", extra=fields(id=container_id[:12], error=str(exc)))
            return None
        stats = None
        if (inspect.get("State") or {}).get("Status") in ("running", "paused"):
            try:
                stats = self._api.stats(container_id)
            except DockerError as exc:
                if exc.status != 404:
                    log.warning("stats failed", extra=fields(id=container_id[:12], error=str(exc)))
        return sample_from_docker(inspect, stats, self.host_cores)

    def collect_once(self) -> Snapshot:
        """One pass over the engine; DockerError when the container list cannot be read."""
        started = time.monotonic()
        listed = self._api.containers(self._label_filters)
        if self.host_cores is None:  # asked once the engine answers; a failure leaves the cores unsaid
            try:
                self.host_cores = int(self._api.info().get("NCPU") or 0) or None
            except (DockerError, ValueError, TypeError) as exc:
                log.debug("docker info failed", extra=fields(error=str(exc)))
        samples = [s for s in self._pool.map(self._sample, listed) if s is not None]
        samples.sort(key=lambda s: s.name)
        return Snapshot(tuple(samples), self._clock(), time.monotonic() - started)

    def step(self) -> None:
        try:
            snapshot = self.collect_once()
        except DockerError as exc:
            self.errors += 1
            if self.docker_up or self.errors == 1:
                log.warning("docker collection failed", extra=fields(error=str(exc)))
            self.docker_up = False
            return
        with self._lock:
            self._snapshot = snapshot
        self.collections += 1
        self.docker_up = True

    def run(self, stop: threading.Event, interval_s: float) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.step()
            stop.wait(max(0.0, interval_s - (time.monotonic() - started)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def render(self, stale_after_s: float) -> str:
        """Text for /metrics: the last snapshot (left out once older than ``stale_after_s``) + self-metrics."""
        snapshot = self.snapshot
        now = self._clock()
        text = ""
        if snapshot is not None and now - snapshot.taken_at <= stale_after_s:
            text = render_containers(snapshot.samples, self._oom.counts(), snapshot.taken_at)
        machine = (
            [("machine_cpu_cores", "gauge", "Logical CPU cores of the engine's host (NCPU)", self.host_cores)]
            if self.host_cores
            else []
        )
        return text + render_gauges(
            [
                *machine,
                (
                    "exporter_docker_up",
                    "gauge",
                    "1 if the last collection from Docker succeeded",
                    self.docker_up,
                ),
                (
                    "exporter_oom_watch_up",
                    "gauge",
                    "1 while the docker event stream is connected",
                    self._oom.connected,
                ),
                (
                    "exporter_containers",
                    "gauge",
                    "Containers in the served snapshot",
                    len(snapshot.samples) if text and snapshot else 0,
                ),
                ("exporter_collections_total", "counter", "Successful collections", self.collections),
                ("exporter_collection_errors_total", "counter", "Failed collections", self.errors),
                (
                    "exporter_last_collection_duration_seconds",
                    "gauge",
                    "Duration of the last collection",
                    snapshot.duration_s if snapshot else 0.0,
                ),
                (
                    "exporter_last_collection_timestamp_seconds",
                    "gauge",
                    "Unix time of the last collection",
                    snapshot.taken_at if snapshot else 0.0,
                ),
            ]
        )
