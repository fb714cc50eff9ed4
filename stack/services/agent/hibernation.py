"""Idle hibernation bookkeeping (rule 6.3), pure and clock-injectable.

The agent hibernates when no work arrived for idle_timeout_s and none is in
flight; the app then releases the model pool and closes its dependency
connections.  The next piece of work wakes it; the wake-up is timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Hibernation:
    __slots__ = ("_hibernating", "_idle_timeout", "_last_activity", "_monotonic", "_total", "_wake_started")

    def __init__(self, idle_timeout_s: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._idle_timeout = idle_timeout_s
        self._monotonic = monotonic
        self._last_activity = monotonic()
        self._hibernating = False
        self._total = 0
        self._wake_started: float | None = None

    @property
    def hibernating(self) -> bool:
        return self._hibernating

    @property
    def hibernations_total(self) -> int:
        return self._total

    @property
    def enabled(self) -> bool:
        return self._idle_timeout > 0

    def touch(self) -> None:
        """Work arrived (an /api request, a consumed message)."""
        self._last_activity = self._monotonic()

    def idle_for(self) -> float:
        return self._monotonic() - self._last_activity

    def due(self, inflight: int) -> bool:
        return (
            self.enabled
            and not self._hibernating
            and inflight == 0
            and self._wake_started is None
            and self.idle_for() >= self._idle_timeout
        )

    def enter(self) -> None:
        if self._hibernating:
            raise RuntimeError("already hibernating")
        self._hibernating = True
        self._total += 1

    def wake_begin(self) -> None:
        if not self._hibernating:
            raise RuntimeError("not hibernating")
        self._wake_started = self._monotonic()

    def wake_end(self) -> float:
        """Finish waking; returns the wake-up duration in seconds."""
        if self._wake_started is None:
            raise RuntimeError("wake_end without wake_begin")
        duration = self._monotonic() - self._wake_started
        self._wake_started = None
        self._hibernating = False
        self._last_activity = self._monotonic()
        return duration
