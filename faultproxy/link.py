"""One proxied connection: two sockets and a pipe per direction (Toxiproxy's link.go).

    client socket --(up pipe: toxic stages)--> upstream socket
    client socket <--(down pipe: toxic stages)-- upstream socket

The fast path: a pipe without toxics binds its source protocol's ``data_received`` straight to the
destination transport's ``write`` and relays with asyncio's flow control (the destination's
``pause_writing`` pauses reading the source). With toxics, chunks go through the stage chain
(stages.py); a stage holding more than its ``buffer_limit()`` pauses the source until the chain has
drained to a quarter of the limits (like Toxiproxy's bounded channels: a bandwidth toxic pushes back
almost at once, a latency toxic holds what 100 ms of fast traffic needs). When a
source ends, the end of stream travels through the chain after its data, the destination is closed
(full close, like Go's ``Close``), and that in turn ends the other direction.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections.abc import Callable
from typing import Protocol, cast

from faultproxy import netaddr
from faultproxy.errors import AddressError
from faultproxy.logs import Logger
from faultproxy.metrics import ProxyStats
from faultproxy.stages import LimitState, Stage, make_stage
from faultproxy.toxics import Direction, Toxic

DIAL_TIMEOUT = 30.0
CLOSE_GRACE = 30.0  # a closed socket whose peer never reads is aborted after this
_LINGER_ZERO = struct.pack("ii", 1, 0)


class LinkOwner(Protocol):
    """What a connection needs from its proxy."""

    name: str
    listen: str
    upstream: str
    loop: asyncio.AbstractEventLoop
    rng: random.Random
    logger: Logger
    stats: ProxyStats | None

    def chain(self, direction: Direction) -> list[Toxic]: ...

    def link_opened(self, link: Link) -> bool:
        """Register a new connection; False if the proxy stopped meanwhile."""

    def link_closed(self, link: Link) -> None: ...


def _discard(data: bytes) -> None:
    """Bytes for a direction that can no longer deliver anything."""


class Side(asyncio.Protocol):
    """One socket of a link. ``data_received`` is rebound per instance by the pipe it feeds."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.closing = False
        self.lost = False
        self.grace: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.pause_reading()  # reading starts once both sockets and pipes exist
        # CPython before 3.11.3 (Debian 12 ships 3.11.2) registers the transport's reader right after
        # connection_made whatever pause_reading said; pausing again on the next loop turn, before any
        # poll can deliver data, keeps early bytes from reaching a link that has no pipe yet.
        self.link.loop.call_soon(self._pause_unless_piped)
        self.link.side_made(self)

    def _pause_unless_piped(self) -> None:
        if self.transport is not None and not self.lost and self.link.pipe_from(self) is None:
            # There the transport already believes it is paused, so a bare pause is a no-op.
            self.transport.resume_reading()
            self.transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.link.route(self)(data)

    def eof_received(self) -> bool:
        self.link.side_eof(self)
        return True  # keep the socket open: the other direction may still write to it

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None
        self.link.side_lost(self)

    def pause_writing(self) -> None:
        self.link.dest_paused(self, True)

    def resume_writing(self) -> None:
        self.link.dest_paused(self, False)

    def close(self) -> None:
        """Close after flushing what is buffered; abort if the peer never takes it."""
        if self.closing or self.lost or self.transport is None:
            return
        self.closing = True
        self.transport.close()
        self.grace = self.link.loop.call_later(CLOSE_GRACE, self.transport.abort)

    def abort(self) -> None:
        if self.transport is not None and not self.lost:
            self.closing = True
            self.transport.abort()

    def set_linger_zero(self) -> None:
        """SO_LINGER 0: closing sends a reset (the reset_peer toxic)."""
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)


class Pipe:
    """One direction of a link: source socket -> toxic stages -> destination socket."""

    __slots__ = (
        "chain_paused",
        "dest_paused",
        "direction",
        "done",
        "dst",
        "eof_in",
        "link",
        "loop",
        "reading_paused",
        "rng",
        "src",
        "stages",
        "stats",
        "write",
    )

    def __init__(self, link: Link, direction: Direction, src: Side, dst: Side, chain: list[Toxic]) -> None:
        assert dst.transport is not None
        self.link = link
        self.loop = link.loop
        self.rng = link.rng
        self.direction = direction
        self.src = src
        self.dst = dst
        self.stats = link.owner.stats
        self.write: Callable[[bytes], None] = dst.transport.write
        self.stages: list[Stage] = []
        self.dest_paused = False
        self.chain_paused = False
        self.reading_paused = True  # Side.connection_made paused it
        self.eof_in = False
        self.done = False
        for toxic in chain:
            self._append(toxic)
        self._bind()

    # -- data path -------------------------------------------------------------------------
    def _bind(self) -> None:
        """Point the source's data_received at the cheapest callable that is still correct."""
        feed: Callable[[bytes], None]
        if self.done:
            feed = _discard
        elif not self.stages and self.stats is None:
            feed = self.write
        else:
            feed = self.feed
        self.src.data_received = feed  # type: ignore[method-assign,assignment]

    def feed(self, data: bytes) -> None:
        """Bytes read from the source."""
        if self.stats is not None:
            self.stats.received[self.direction] += len(data)
        if not self.stages:
            self.push(data, 0.0)
            return
        self.stages[0].push(data, self.loop.time())
        if not self.chain_paused and self._over_limit():
            self.chain_paused = True
            self._update_reading()

    def push(self, data: bytes, ts: float) -> None:
        """The end of the chain: write to the destination."""
        if self.done:
            return
        if self.stats is not None:
            self.stats.sent[self.direction] += len(data)
        self.write(data)

    def push_eof(self) -> None:
        """The end of stream left the chain: close the destination."""
        if self.done:
            return
        self.done = True
        self._bind()
        self.link.pipe_finished(self)

    def source_eof(self) -> None:
        if self.eof_in or self.done:
            return
        self.eof_in = True
        if self.stages:
            self.stages[0].push_eof()
        else:
            self.push_eof()

    def kill(self) -> None:
        """The destination is gone: drop whatever is in flight, stop all timers."""
        self.done = True
        stages, self.stages = self.stages, []
        for stage in stages:
            stage.interrupt()
        self._bind()

    # -- flow control ----------------------------------------------------------------------
    def _over_limit(self) -> bool:
        return any(stage.buffered() > stage.buffer_limit() for stage in self.stages)

    def _drained(self) -> bool:
        return all(stage.buffered() <= stage.buffer_limit() // 4 for stage in self.stages)

    def drained(self) -> None:
        if self.chain_paused and self._drained():
            self.chain_paused = False
            self._update_reading()

    def set_dest_paused(self, paused: bool) -> None:
        self.dest_paused = paused
        self._update_reading()

    def _update_reading(self) -> None:
        pause = self.dest_paused or self.chain_paused
        if pause == self.reading_paused or self.src.transport is None:
            return
        self.reading_paused = pause
        if pause:
            self.src.transport.pause_reading()
        else:
            self.src.transport.resume_reading()

    # -- toxics changed on a live connection -----------------------------------------------
    def _outlet_before(self, index: int) -> Stage | None:
        return self.stages[index - 1] if index > 0 else None

    def _append(self, toxic: Toxic) -> None:
        stage = make_stage(toxic, self, self, LimitState())
        if self.stages:
            self.stages[-1].next = stage
        self.stages.append(stage)
        stage.start()

    def add(self, toxic: Toxic) -> None:
        if self.done:
            return
        self._append(toxic)
        self._bind()

    def _index(self, name: str) -> int | None:
        for index, stage in enumerate(self.stages):
            if stage.name == name:
                return index
        return None

    def remove(self, name: str) -> None:
        index = self._index(name)
        if index is None:
            return
        stage = self.stages.pop(index)
        before = self._outlet_before(index)
        if before is not None:
            before.next = stage.next
        if stage.closes_on_removal:
            stage.close()
        else:
            chunks, eof = stage.interrupt()
            for data, ts in chunks:
                stage.next.push(data, ts)
            if eof:
                stage.next.push_eof()
        self._bind()
        self.drained()

    def update(self, toxic: Toxic) -> None:
        index = self._index(toxic.name)
        if index is None or self.stages[index].closed:
            return
        old = self.stages[index]
        new = make_stage(toxic, self, old.next, old.state)
        chunks, eof = old.interrupt()
        self.stages[index] = new
        before = self._outlet_before(index)
        if before is not None:
            before.next = new
        new.start()
        for data, ts in chunks:
            new.push(data, ts)
        if eof:
            new.push_eof()
        self.drained()


class Link:
    """A client connection, the upstream connection dialled for it, and the two pipes between them."""

    def __init__(self, owner: LinkOwner) -> None:
        self.owner = owner
        self.loop = owner.loop
        self.rng = owner.rng
        self.client = Side(self)
        self.upstream: Side | None = None
        self.up: Pipe | None = None
        self.down: Pipe | None = None
        self.dial_task: asyncio.Task[None] | None = None
        self.finished = False
        self.peer = ""
        self.early: list[tuple[Side, bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------
    def side_made(self, side: Side) -> None:
        if side is not self.client:
            return
        assert side.transport is not None
        peer = side.transport.get_extra_info("peername")
        self.peer = netaddr.join_host_port(str(peer[0]), int(peer[1])) if peer else "?"
        if not self.owner.link_opened(self):
            side.abort()
            return
        self.owner.logger.info(
            "Accepted client",
            name=self.owner.name,
            client=self.peer,
            proxy=self.owner.listen,
            upstream=self.owner.upstream,
        )
        self.dial_task = self.loop.create_task(self._dial())

    async def _dial(self) -> None:
        upstream = Side(self)
        try:
            host, port_text = netaddr.split_host_port(self.owner.upstream)
            port = netaddr.port_number(port_text, self.owner.upstream)
            # Like Go's Dial, an empty host means this machine.
            connecting = self.loop.create_connection(lambda: upstream, host or "localhost", port)
            await asyncio.wait_for(connecting, DIAL_TIMEOUT)
        except asyncio.CancelledError:
            self.dial_task = None
            self._maybe_finish()
            raise
        except (OSError, AddressError, TimeoutError, ValueError, UnicodeError) as exc:
            self.owner.logger.error(
                "Unable to open connection to upstream",
                name=self.owner.name,
                client=self.peer,
                proxy=self.owner.listen,
                upstream=self.owner.upstream,
                error=str(exc),
            )
            self.dial_task = None
            self.client.close()
            return
        self.dial_task = None
        self.upstream = upstream
        if self.client.lost or self.client.closing:
            upstream.abort()
            return
        self._connect()

    def _connect(self) -> None:
        upstream = self.upstream
        assert upstream is not None
        up_chain = self.owner.chain(Direction.UPSTREAM)
        down_chain = self.owner.chain(Direction.DOWNSTREAM)
        if any(toxic.type == "reset_peer" for toxic in (*up_chain, *down_chain)):
            self.client.set_linger_zero()
            upstream.set_linger_zero()
        self.up = Pipe(self, Direction.UPSTREAM, self.client, upstream, up_chain)
        self.down = Pipe(self, Direction.DOWNSTREAM, upstream, self.client, down_chain)
        early, self.early = self.early, []
        for side, data in early:
            self.route(side)(data)
        self.up._update_reading()
        self.down._update_reading()

    def abort(self) -> None:
        """Drop the connection now (proxy disabled, replaced or deleted)."""
        if self.dial_task is not None:
            self.dial_task.cancel()
        for pipe in (self.up, self.down):
            if pipe is not None:
                pipe.kill()
        self.client.abort()
        if self.upstream is not None:
            self.upstream.abort()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self.finished or self.dial_task is not None:
            return
        if not self.client.lost and self.client.transport is not None:
            return
        if self.upstream is not None and not self.upstream.lost:
            return
        self.finished = True
        for pipe in (self.up, self.down):
            if pipe is not None:
                pipe.kill()
        self.owner.link_closed(self)

    # -- socket events ---------------------------------------------------------------------
    def pipe_from(self, side: Side) -> Pipe | None:
        return self.up if side is self.client else self.down

    def _pipe_into(self, side: Side) -> Pipe | None:
        return self.down if side is self.client else self.up

    def route(self, side: Side) -> Callable[[bytes], None]:
        pipe = self.pipe_from(side)
        if pipe is not None:
            return pipe.feed
        if self.finished or side.lost:
            return _discard
        # Bytes read before the pipes exist (see Side._pause_unless_piped) wait for them.
        return lambda data: self.early.append((side, data))

    def side_eof(self, side: Side) -> None:
        pipe = self.pipe_from(side)
        if pipe is not None:
            pipe.source_eof()

    def side_lost(self, side: Side) -> None:
        into = self._pipe_into(side)
        if into is not None and not into.done:
            into.kill()
        source = self.pipe_from(side)
        if source is not None:
            source.source_eof()
        self._maybe_finish()

    def dest_paused(self, side: Side, paused: bool) -> None:
        pipe = self._pipe_into(side)
        if pipe is not None:
            pipe.set_dest_paused(paused)

    def pipe_finished(self, pipe: Pipe) -> None:
        """A direction ended: close its destination, which also ends reading from that socket."""
        pipe.dst.close()
        other = self.pipe_from(pipe.dst)
        if other is not None:
            other.source_eof()

    def pipe(self, direction: Direction) -> Pipe | None:
        """The live pipe of ``direction``; None while the upstream is still being dialled."""
        return self.up if direction == Direction.UPSTREAM else self.down
