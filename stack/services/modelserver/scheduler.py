"""Admission control like Ollama's: NUM_PARALLEL requests run, up to MAX_QUEUE wait, the rest are refused."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class QueueFull(Exception):
    """More requests are waiting than OLLAMA_MAX_QUEUE allows."""


class Scheduler:
    """FIFO slots: a released slot is handed straight to the oldest waiter, so nobody overtakes."""

    def __init__(self, num_parallel: int, max_queue: int) -> None:
        if num_parallel < 1 or max_queue < 0:
            raise ValueError("num_parallel must be >= 1 and max_queue >= 0")
        self.num_parallel = num_parallel
        self.max_queue = max_queue
        self._running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.rejected = 0
        self.admitted = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        """Take a slot, waiting in line if all are busy; QueueFull when the line is full."""
        if self._running < self.num_parallel and not self._waiters:
            self._running += 1
            self.admitted += 1
            return
        if len(self._waiters) >= self.max_queue:
            self.rejected += 1
            raise QueueFull
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as the waiter gave up
            else:
                self._waiters.remove(waiter)
            raise
        self.admitted += 1

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # hand the slot over: running stays the same
                return
        self._running -= 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
