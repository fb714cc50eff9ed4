"""Loaded models: at most MAX_LOADED_MODELS resident, LRU eviction of idle ones, unload after keep-alive.

A model in use is never evicted: a request for another model then waits (FIFO) until one is idle, as
Ollama does. The memory itself comes from an injected loader so tests need not allocate it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from .catalog import Model


class LoadError(Exception):
    """A model could not be loaded (the loader failed or was cancelled)."""


class Resident(Protocol):
    """Memory held for a loaded model."""

    def close(self) -> None: ...


Loader = Callable[[Model], Awaitable[Resident]]


@dataclass(slots=True)
class _Entry:
    model: Model
    ready: asyncio.Future[Resident]
    refs: int = 0
    keep_alive_s: float = 0.0
    expires_at: float = math.inf  # monotonic; only meaningful while refs == 0
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def idle(self) -> bool:
        return self.refs == 0 and self.ready.done()


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: Model
    in_use: int
    expires_in_s: float  # math.inf = never


@dataclass(frozen=True, slots=True)
class Lease:
    model: Model
    load_duration_s: float  # 0 when the model was already resident


class ModelPool:
    def __init__(
        self,
        max_loaded: int,
        keep_alive_s: float,
        loader: Loader,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_loaded < 1:
            raise ValueError("max_loaded must be >= 1")
        self.max_loaded = max_loaded
        self.default_keep_alive_s = keep_alive_s
        self._loader = loader
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # LRU first
        self._line: deque[object] = deque()
        self._changed = asyncio.Condition()
        self.loads = 0
        self.evictions = 0  # unloaded to make room
        self.expirations = 0  # unloaded after keep-alive
        self.load_failures = 0

    # --- reading -------------------------------------------------------------------------------------
    def loaded(self) -> list[LoadedModel]:
        now = self._clock()
        out = []
        for entry in self._entries.values():
            if not entry.ready.done() or entry.ready.exception() is not None:
                continue
            # In use, it expires one keep-alive after the last request ends, as Ollama reports it.
            expires_in = entry.keep_alive_s if entry.refs else max(0.0, entry.expires_at - now)
            out.append(LoadedModel(entry.model, entry.refs, expires_in))
        return out

    @property
    def loaded_bytes(self) -> int:
        return sum(item.model.size for item in self.loaded())

    @property
    def waiting(self) -> int:
        return len(self._line)

    # --- leasing -------------------------------------------------------------------------------------
    @asynccontextmanager
    async def use(self, model: Model, keep_alive_s: float | None = None) -> AsyncIterator[Lease]:
        """Hold ``model`` resident for the duration of the block (loading it, evicting if needed)."""
        keep = self.default_keep_alive_s if keep_alive_s is None else keep_alive_s
        entry, load_s = await self._acquire(model)
        try:
            yield Lease(model, load_s)
        finally:
            await self._release(entry, keep)

    def _grantable(self, name: str) -> bool:
        if name in self._entries or len(self._entries) < self.max_loaded:
            return True
        return any(entry.idle for entry in self._entries.values())

    async def _acquire(self, model: Model) -> tuple[_Entry, float]:
        ticket = object()
        self._line.append(ticket)
        try:
            async with self._changed:
                await self._changed.wait_for(lambda: self._line[0] is ticket and self._grantable(model.name))
                self._line.popleft()
                entry, must_load = self._take(model)
                self._changed.notify_all()
        except BaseException:
            if ticket in self._line:
                self._line.remove(ticket)
                async with self._changed:
                    self._changed.notify_all()
            raise
        if must_load:
            return entry, await self._load(entry)
        try:
            await asyncio.shield(entry.ready)  # another request is loading it
        except BaseException:
            await self._release(entry, 0.0)
            raise
        return entry, 0.0

    def _take(self, model: Model) -> tuple[_Entry, bool]:
        entry = self._entries.get(model.name)
        if entry is not None:
            entry.refs += 1
            self._entries.move_to_end(model.name)
            return entry, False
        if len(self._entries) >= self.max_loaded:
            victim = next(e for e in self._entries.values() if e.idle)
            self._unload(victim)
            self.evictions += 1
        entry = _Entry(
            model, asyncio.get_running_loop().create_future(), refs=1, keep_alive_s=self.default_keep_alive_s
        )
        self._entries[model.name] = entry
        return entry, True

    async def _load(self, entry: _Entry) -> float:
        started = time.monotonic()
        try:
            resident = await self._loader(entry.model)
        except BaseException as exc:
            self.load_failures += 1
            failure = LoadError(f"failed to load model {entry.model.name}: {exc!r}")
            async with self._changed:
                self._entries.pop(entry.model.name, None)
                entry.ready.set_exception(failure)  # requests waiting on this load get it too
                entry.ready.exception()  # mark retrieved
                self._changed.notify_all()
            if isinstance(exc, Exception):
                raise failure from exc
            raise
        entry.ready.set_result(resident)
        entry.loaded_at = self._clock()
        self.loads += 1
        return time.monotonic() - started

    async def _release(self, entry: _Entry, keep_alive_s: float) -> None:
        async with self._changed:
            entry.refs -= 1
            entry.keep_alive_s = keep_alive_s
            entry.expires_at = self._clock() + keep_alive_s
            if entry.idle and keep_alive_s <= 0 and self._entries.get(entry.model.name) is entry:
                self._unload(entry)
                self.expirations += 1
            self._changed.notify_all()

    # --- unloading -----------------------------------------------------------------------------------
    def _unload(self, entry: _Entry) -> None:
        del self._entries[entry.model.name]
        if entry.ready.done() and entry.ready.exception() is None:
            entry.ready.result().close()

    async def expire(self) -> int:
        """Unload idle models whose keep-alive has passed; returns how many."""
        now = self._clock()
        async with self._changed:
            due = [e for e in self._entries.values() if e.idle and e.expires_at <= now]
            for entry in due:
                self._unload(entry)
            self.expirations += len(due)
            if due:
                self._changed.notify_all()
        return len(due)

    async def close(self) -> None:
        async with self._changed:
            for entry in list(self._entries.values()):
                if entry.idle:
                    self._unload(entry)
