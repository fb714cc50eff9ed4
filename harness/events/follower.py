"""Follow the engine's events for one stack project during a run and push them to the Pushgateway.

Two threads: a reader that feeds every event to an ``EventTally`` (inspecting a container after each start
to read its RestartCount), and a pusher that replaces the group job="harness_events", instance=<run id>
every ``interval`` seconds. ``stop()`` pushes a last time and deletes the group (its last values would be
scraped forever otherwise; ``harness clean`` deletes what a killed run left). Should the event stream
break, the group is deleted at once: series that stopped counting must read as missing (an ``error``
verdict), never as "no restart happened".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, push_to_gateway

from harness.errors import HarnessError
from harness.events.engine import Engine, EventStream
from harness.events.tally import EventTally
from harness.load.driver import LoadError
from harness.load.pushgateway import delete_group

log = logging.getLogger(__name__)

JOB = "harness_events"
"""The Pushgateway job of the engine-event series (grouping key instance=<run id>)."""
PUSH_INTERVAL_S = 1.0
JOIN_TIMEOUT_S = 5.0


class EventsError(HarnessError):
    """The engine's event stream could not be followed, or its series could not be pushed."""


class Sink(Protocol):
    def push(self, registry: CollectorRegistry) -> None:
        """Replace the group with the registry's series; OSError on failure."""

    def delete(self) -> None:
        """Delete the group; EventsError on failure."""


class PushgatewaySink:
    def __init__(self, url: str, run_id: str, timeout: float = 2.0) -> None:
        self.url, self.run_id, self.timeout = url, run_id, timeout

    def push(self, registry: CollectorRegistry) -> None:
        push_to_gateway(
            self.url, job=JOB, registry=registry, grouping_key={"instance": self.run_id}, timeout=self.timeout
        )

    def delete(self) -> None:
        try:
            delete_group(self.url, self.run_id, job=JOB)
        except LoadError as exc:
            raise EventsError(str(exc)) from exc


class EventFollower:
    """``with EventFollower(engine, project, sink): ...`` follows the project's events while inside."""

    def __init__(
        self,
        engine: Engine,
        project: str,
        sink: Sink,
        interval: float = PUSH_INTERVAL_S,
        say: Callable[[str], None] = log.warning,
    ) -> None:
        self.engine, self.sink, self.interval, self.say = engine, sink, interval, say
        self.tally = EventTally(project)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.tally)
        self.broken: str | None = None
        """Why the event stream ended before stop(), if it did."""
        self._stopping = threading.Event()
        self._stream: EventStream | None = None
        self._threads: list[threading.Thread] = []
        self._push_failing = False

    def start(self) -> None:
        """Subscribe, then declare every container of the project (so nothing is missed in between),
        push once, and follow in the background."""
        try:
            self._stream = self.engine.events(self.tally.project)
            for container_id, attrs in self.engine.containers(self.tally.project):
                self.tally.declare(container_id, attrs)
        except Exception as exc:
            self._close_stream()
            raise EventsError(f"cannot follow the engine's events: {exc}") from exc
        self._push()
        for target, name in ((self._read, "events-reader"), (self._push_loop, "events-pusher")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop following, push the final counts, delete the group; never raises (runs in finally)."""
        self._stopping.set()
        self._close_stream()
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT_S)
        if self.broken is None:
            self._push()
        try:
            self.sink.delete()
        except EventsError as exc:
            self.say(f"engine events: {exc}")

    def __enter__(self) -> EventFollower:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _read(self) -> None:
        assert self._stream is not None
        try:
            for event in self._stream:
                if self._stopping.is_set():
                    return
                self._observe(event)
        except Exception as exc:  # the engine went away, or close() cut the stream
            if not self._stopping.is_set():
                self.broken = f"the engine's event stream broke: {exc}"
            return
        if not self._stopping.is_set():
            self.broken = "the engine's event stream ended"

    def _observe(self, event: object) -> None:
        assert isinstance(event, dict)
        restart_count = None
        if event.get("Action") == "start":
            container_id = str((event.get("Actor") or {}).get("ID"))
            attrs = self.engine.inspect(container_id)
            if attrs is not None:
                self.tally.declare(container_id, attrs)
                restart_count = int(attrs.get("RestartCount") or 0)
        self.tally.observe(event, restart_count)

    def _push_loop(self) -> None:
        while not self._stopping.wait(self.interval):
            if self.broken is not None:
                self.say(f"engine events: {self.broken}; their series are withdrawn")
                try:
                    self.sink.delete()
                except EventsError as exc:
                    self.say(f"engine events: {exc}")
                return
            self._push()

    def _push(self) -> None:
        try:
            self.sink.push(self.registry)
        except OSError as exc:  # urllib's errors; the next push may work
            if not self._push_failing:
                self.say(f"engine events: push failed: {exc}; retrying every {self.interval:g} s")
            self._push_failing = True
            return
        self._push_failing = False

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception as exc:  # a stream already broken may fail to close
                log.debug("closing the event stream: %s", exc)
