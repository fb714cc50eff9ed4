"""The load port: start a bounded load, watch it, stop it; ``running()`` always stops it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from harness.catalogue.model import LoadLevel
from harness.errors import HarnessError


class LoadError(HarnessError):
    """A load could not be started or died, or a load level is out of its bounds."""


@dataclass(frozen=True, slots=True)
class LostWorker:
    """A Locust worker that ended while the load ran: its share of the load was missing from then on."""

    worker: int
    """1..N, as started."""
    pid: int
    exit_code: int | None
    since: float
    """Wall clock: the last time it was seen running (it died at or after this)."""

    def describe(self) -> str:
        return f"Locust worker {self.worker} (pid {self.pid}) exited with code {self.exit_code}"


@dataclass(frozen=True, slots=True)
class LoadProgress:
    rps: float
    """Requests per second over the last report interval (about a second)."""
    failures: int
    """Failed requests since the start."""
    users: int
    requests: int
    """Requests since the start."""
    lost_workers: int = 0
    """Workers that died so far (their requests are missing from then on)."""


@dataclass(frozen=True, slots=True)
class LoadSummary:
    requests: int
    failures: int
    duration: float
    """Seconds from launching the load to the call of stop(), on the monotonic clock."""
    exit_code: int | None
    """The load generator's exit code (None for a fake)."""
    warnings: tuple[str, ...] = ()
    """What went wrong while cleaning up (stop() never raises: it runs in finally blocks)."""
    lost: tuple[LostWorker, ...] = ()
    """Workers that died before stop(): the client-side figures from ``since`` on are short of them."""

    @property
    def rps(self) -> float:
        return self.requests / self.duration if self.duration > 0 else 0.0


class LoadDriver(Protocol):
    def start(self, level: LoadLevel, duration: float, run_id: str) -> None:
        """Check the level against the bounds (LoadError), start the load, and return once every user
        runs. The load ends by itself shortly after ``duration`` seconds even if stop() is never called."""

    def progress(self) -> LoadProgress:
        """Cheap: the figures of the last second. LoadError if the load died."""

    def stop(self) -> LoadSummary:
        """Stop the load and clean up after it; idempotent, never raises."""


@dataclass(slots=True)
class RunningLoad:
    """What ``running()`` yields; ``summary`` is set when the block is left."""

    driver: LoadDriver
    summary: LoadSummary | None = None

    def progress(self) -> LoadProgress:
        return self.driver.progress()


@contextmanager
def running(driver: LoadDriver, level: LoadLevel, duration: float, run_id: str) -> Iterator[RunningLoad]:
    """Start the load, yield, and stop it on leaving: also on errors and KeyboardInterrupt."""
    handle = RunningLoad(driver)
    try:
        driver.start(level, duration, run_id)
        yield handle
    finally:
        handle.summary = driver.stop()
