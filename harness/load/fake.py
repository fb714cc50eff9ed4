"""A LoadDriver without processes or network, for tests of whatever drives the load."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load.bounds import check_level, check_run_id
from harness.load.driver import LoadError, LoadProgress, LoadSummary, LostWorker


class FakeLoad:
    """Serves ``level.rate`` requests per second of ``clock`` (``failure_ratio`` of them failing) while
    running. ``start_error`` makes start() fail after the checks, as a load that cannot start would;
    ``dies()`` makes progress() report the load dead; ``loses_worker()`` loses one of its workers (the
    load goes on, the loss is reported). ``calls`` lists start/stop in order."""

    def __init__(
        self,
        bounds: LoadBounds | None = None,
        *,
        failure_ratio: float = 0.0,
        start_error: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bounds = bounds or LoadBounds()
        self.failure_ratio = failure_ratio
        self.start_error = start_error
        self.clock = clock
        self.calls: list[str] = []
        self.level: LoadLevel | None = None
        self.run_id = ""
        self._started = 0.0
        self._dead = False
        self._lost: list[LostWorker] = []
        self._summary: LoadSummary | None = None

    def start(self, level: LoadLevel, duration: float, run_id: str) -> None:
        if self.level is not None and self._summary is None:
            raise LoadError(f"load {self.run_id} is still running: stop it first")
        self.level, self._summary, self._dead, self._lost = None, None, False, []
        check_level(level, duration, self.bounds)
        check_run_id(run_id)
        self.calls.append(f"start {run_id}")
        if self.start_error:
            raise LoadError(self.start_error)
        self.level, self.run_id, self._started, self._summary = level, run_id, self.clock(), None

    def dies(self) -> None:
        self._dead = True

    def loses_worker(self) -> None:
        self._lost.append(LostWorker(len(self._lost) + 1, 0, -9, time.time()))

    def progress(self) -> LoadProgress:
        if self.level is None:
            raise LoadError("no load was started")
        if self._dead:
            raise LoadError(f"load {self.run_id} died")
        requests = self._requests()
        running = self._summary is None
        return LoadProgress(
            rps=self.level.rate if running else 0.0,
            failures=self._failures(requests),
            users=self.level.users if running else 0,
            requests=requests,
            lost_workers=len(self._lost),
        )

    def stop(self) -> LoadSummary:
        if self._summary is None:
            self.calls.append("stop")
            requests = self._requests() if self.level else 0
            duration = self.clock() - self._started if self.level else 0.0
            self._summary = LoadSummary(
                requests, self._failures(requests), duration, None, lost=tuple(self._lost)
            )
        return self._summary

    def _requests(self) -> int:
        if self._summary is not None:
            return self._summary.requests
        assert self.level is not None
        return int(self.level.rate * (self.clock() - self._started))

    def _failures(self, requests: int) -> int:
        return round(requests * self.failure_ratio)
