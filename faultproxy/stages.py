"""What each toxic does to the bytes of one direction of one connection (toxics/*.go).

A pipe (link.py) chains stages like Toxiproxy's ToxicStubs: each stage receives chunks with
``push(data, ts)`` (``ts`` = when the chunk entered the proxy, on the loop clock) and the end of the
stream with ``push_eof()``, and hands its output to ``self.next``. Stages never block: a stage that
holds data keeps it in an ordered queue released by loop timers, so adding, updating or removing a
stage on a live connection only relinks ``next`` and re-feeds the queue, never dropping,
duplicating or reordering bytes. "Closing" a stage (Toxiproxy's ``stub.Close()``) passes the end of
stream on at once, which closes the destination socket.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import deque
from typing import Protocol

from faultproxy import toxics
from faultproxy.toxics import Toxic

Pending = tuple[list[tuple[bytes, float]], bool]
"""What an interrupted stage still held: its chunks (data, ts) in order, and whether EOF was pending."""

_NOTHING: Pending = ([], False)

LATENCY_BUFFER = 16 * 1024 * 1024  # in flight behind a latency toxic: ~100 ms of 160 MB/s
SMALL_BUFFER = 256 * 1024  # what a bandwidth or slicer toxic may hold beyond its release schedule


class Outlet(Protocol):
    def push(self, data: bytes, ts: float) -> None: ...

    def push_eof(self) -> None: ...


class PipeControl(Protocol):
    """What a stage needs from the pipe it sits in."""

    loop: asyncio.AbstractEventLoop
    rng: random.Random

    def drained(self) -> None:
        """Called after a stage released queued data, so the pipe can resume reading its source."""


class LimitState:
    """Bytes passed by a limit_data toxic on one connection; survives updates of the toxic."""

    __slots__ = ("transmitted",)

    def __init__(self) -> None:
        self.transmitted = 0


class Stage:
    """A toxic on one pipe. The base class passes everything through (the noop toxic)."""

    __slots__ = ("closed", "closes_on_removal", "name", "next", "pipe", "state", "toxic")

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        self.toxic = toxic
        self.name = toxic.name
        self.pipe = pipe
        self.next = nxt
        self.state = state
        self.closed = False
        # Toxiproxy's Cleanup hook belongs to the toxic type, so it runs even if toxicity made it a noop.
        self.closes_on_removal = toxic.type == "timeout"

    def start(self) -> None:
        """Called once the stage is linked in (connection opened, toxic added or updated)."""

    def push(self, data: bytes, ts: float) -> None:
        if not self.closed:
            self.next.push(data, ts)

    def push_eof(self) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._cancel()
            self.next.push_eof()

    def buffered(self) -> int:
        return 0

    def buffer_limit(self) -> int:
        """Bytes this stage may hold before the pipe stops reading its source."""
        return 0

    def interrupt(self) -> Pending:
        """Stop this stage (it is being removed or replaced) and return what it still held."""
        self._cancel()
        return _NOTHING

    def _cancel(self) -> None:
        """Cancel timers; overridden by stages that have any."""


class Scheduled(Stage):
    """A stage that releases queued chunks (or EOF, as None) at due times, strictly in order."""

    __slots__ = ("queue", "queued_bytes", "timer")
    stamp_due = False  # latency re-stamps chunks with their due time, so chained latencies add up

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        super().__init__(toxic, pipe, nxt, state)
        self.queue: deque[tuple[float, bytes | None, float]] = deque()
        self.queued_bytes = 0
        self.timer: asyncio.TimerHandle | None = None

    def enqueue(self, due: float, data: bytes | None, ts: float) -> None:
        """Queue ``data`` (entered at ``ts``) to leave at ``due``; interrupt() hands back the original ts."""
        if not self.queue and due <= self.pipe.loop.time():
            self._emit(data, due if self.stamp_due else ts)
            return
        self.queue.append((due, data, ts))
        if data is not None:
            self.queued_bytes += len(data)
        if self.timer is None:
            self._arm()

    def push_eof(self) -> None:
        if not self.closed:
            self.enqueue(self.pipe.loop.time(), None, 0.0)

    def _emit(self, data: bytes | None, ts: float) -> None:
        if data is None:
            self.close()
        else:
            self.next.push(data, ts)

    def _arm(self) -> None:
        due = self.queue[0][0]
        if math.isfinite(due):
            self.timer = self.pipe.loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self.timer = None
        now = self.pipe.loop.time()
        queue = self.queue
        while queue and queue[0][0] <= now and not self.closed:
            due, data, ts = queue.popleft()
            if data is not None:
                self.queued_bytes -= len(data)
            self._emit(data, due if self.stamp_due else ts)
        if queue and not self.closed:
            self._arm()
        self.pipe.drained()

    def buffered(self) -> int:
        return self.queued_bytes

    def buffer_limit(self) -> int:
        return LATENCY_BUFFER

    def interrupt(self) -> Pending:
        self._cancel()
        chunks = [(data, ts) for _due, data, ts in self.queue if data is not None]
        eof = any(data is None for _due, data, _ts in self.queue)
        self.queue.clear()
        self.queued_bytes = 0
        return chunks, eof

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def close(self) -> None:
        if not self.closed:
            self.queue.clear()
            self.queued_bytes = 0
        super().close()


class LatencyStage(Scheduled):
    """Each chunk leaves latency +/- jitter ms after it entered; the delays overlap (latency.go)."""

    __slots__ = ()
    stamp_due = True

    def push(self, data: bytes, ts: float) -> None:
        if self.closed:
            return
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Latency)
        delay = attrs.latency
        if attrs.jitter > 0:
            delay += self.pipe.rng.randrange(attrs.jitter * 2) - attrs.jitter
        self.enqueue(ts + delay / 1000.0, data, ts)


class Paced(Scheduled):
    """A stage that releases pieces one after another: ``clock`` is when the last piece goes out."""

    __slots__ = ("clock",)

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        super().__init__(toxic, pipe, nxt, state)
        self.clock = 0.0


class BandwidthStage(Paced):
    """Throttle to ``rate`` KB/s, large chunks cut into 100 ms slices; rate 0 holds data (bandwidth.go)."""

    __slots__ = ()

    def push(self, data: bytes, ts: float) -> None:
        if self.closed:
            return
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Bandwidth)
        if attrs.rate <= 0:
            self.enqueue(math.inf, data, ts)
            return
        per_second = attrs.rate * 1000.0
        slice_size = attrs.rate * 100
        self.clock = max(self.clock, self.pipe.loop.time())
        for offset in range(0, len(data), slice_size):
            piece = data[offset : offset + slice_size] if len(data) > slice_size else data
            self.clock += len(piece) / per_second
            self.enqueue(self.clock, piece, ts)

    def buffer_limit(self) -> int:
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Bandwidth)
        return max(SMALL_BUFFER, attrs.rate * 250)  # a quarter second of the rate

    def push_eof(self) -> None:
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Bandwidth)
        if attrs.rate <= 0:
            self.close()  # nothing held can ever pass while the toxic is active
        else:
            super().push_eof()


class SlicerStage(Paced):
    """Cut each chunk into about average_size +/- size_variation bytes, delay µs apart (slicer.go)."""

    __slots__ = ()

    def push(self, data: bytes, ts: float) -> None:
        if self.closed:
            return
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Slicer)
        delay = max(attrs.delay, 0) / 1_000_000.0
        self.clock = max(self.clock, self.pipe.loop.time())
        bounds = slice_bounds(len(data), attrs.average_size, attrs.size_variation, self.pipe.rng)
        for start, end in itertools.pairwise(bounds):
            self.enqueue(self.clock, data[start:end], ts)
            self.clock += delay

    def buffer_limit(self) -> int:
        return SMALL_BUFFER


def slice_bounds(size: int, average: int, variation: int, rng: random.Random) -> list[int]:
    """Offsets [0, a, b, ..., size] of the slices, splitting around the middle like slicer.go's chunk()."""
    average = max(average, 1)
    variation = max(variation, 0)
    bounds = [0]
    stack = [(0, size)]
    while stack:
        start, end = stack.pop()
        if (end - start) - average <= variation or end - start <= 1:
            bounds.append(end)
            continue
        jiggle = rng.randrange(variation * 2) - variation if variation else 0
        mid = min(max(start + (end - start) // 2 + jiggle, start + 1), end - 1)
        stack.append((mid, end))
        stack.append((start, mid))
    return bounds


class SlowCloseStage(Stage):
    """Pass data; pass the end of stream on only ``delay`` ms after it came (slow_close.go)."""

    __slots__ = ("timer",)

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        super().__init__(toxic, pipe, nxt, state)
        self.timer: asyncio.TimerHandle | None = None

    def push_eof(self) -> None:
        if self.closed or self.timer is not None:
            return
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.SlowClose)
        self.timer = self.pipe.loop.call_later(max(attrs.delay, 0) / 1000.0, self.close)

    def interrupt(self) -> Pending:
        waiting = self.timer is not None
        self._cancel()
        return [], waiting

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class TimeoutStage(Stage):
    """Drop all data; close ``timeout`` ms after starting (0 = never); closes when removed (timeout.go)."""

    __slots__ = ("timer",)

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        super().__init__(toxic, pipe, nxt, state)
        self.timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.Timeout)
        if attrs.timeout > 0:
            self.timer = self.pipe.loop.call_later(attrs.timeout / 1000.0, self.close)

    def push(self, data: bytes, ts: float) -> None:
        """Data is dropped on the floor."""

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class ResetPeerStage(Stage):
    """On the first data or EOF, wait ``timeout`` ms then close; with SO_LINGER 0 that is a reset."""

    __slots__ = ("eof_seen", "timer", "triggered")

    def __init__(self, toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> None:
        super().__init__(toxic, pipe, nxt, state)
        self.timer: asyncio.TimerHandle | None = None
        self.triggered = False
        self.eof_seen = False

    def _trigger(self) -> None:
        if self.triggered or self.closed:
            return
        self.triggered = True
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.ResetPeer)
        if attrs.timeout <= 0:
            self.close()
        else:
            self.timer = self.pipe.loop.call_later(attrs.timeout / 1000.0, self.close)

    def push(self, data: bytes, ts: float) -> None:
        self._trigger()

    def push_eof(self) -> None:
        self.eof_seen = True
        self._trigger()

    def interrupt(self) -> Pending:
        self._cancel()
        return [], self.eof_seen

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class LimitDataStage(Stage):
    """Pass at most ``bytes`` bytes per connection and direction, cut the chunk crossing it, then close."""

    __slots__ = ()

    def push(self, data: bytes, ts: float) -> None:
        if self.closed:
            return
        attrs = self.toxic.attributes
        assert isinstance(attrs, toxics.LimitData)
        remaining = max(attrs.bytes - self.state.transmitted, 0)
        if remaining < len(data):
            data = data[:remaining]
        if data:
            self.state.transmitted += len(data)
            self.next.push(data, ts)
        if attrs.bytes - self.state.transmitted <= 0:
            self.close()


STAGES: dict[str, type[Stage]] = {
    "latency": LatencyStage,
    "bandwidth": BandwidthStage,
    "slow_close": SlowCloseStage,
    "timeout": TimeoutStage,
    "reset_peer": ResetPeerStage,
    "slicer": SlicerStage,
    "limit_data": LimitDataStage,
    "noop": Stage,
}


def make_stage(toxic: Toxic, pipe: PipeControl, nxt: Outlet, state: LimitState) -> Stage:
    """The stage for ``toxic``, or a pass-through with probability 1 - toxicity (toxic.go Run)."""
    kind = STAGES[toxic.type] if pipe.rng.random() < toxic.toxicity else Stage
    return kind(toxic, pipe, nxt, state)
