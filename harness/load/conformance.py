"""The one conformance check every LoadDriver passes: FakeLoad and LocustLoad alike (tests run it on both).

Raises AssertionError naming the broken promise; the driver must be fresh and left stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load.driver import LoadDriver, LoadError, LoadProgress


def check_driver(
    driver: LoadDriver, bounds: LoadBounds, level: LoadLevel, duration: float, run_id: str, patience: float
) -> LoadProgress:
    """Walk the driver through the protocol; return the last progress seen while it ran."""
    _expect_error(lambda: driver.progress(), "progress() before start()")
    too_many = LoadLevel(bounds.max_users + 1, level.spawn_rate, level.rate)
    _expect_error(lambda: driver.start(too_many, duration, run_id), "a level over max_users")
    _expect_error(
        lambda: driver.start(level, bounds.max_duration + 1, run_id), "a duration over max_duration"
    )
    driver.start(level, duration, run_id)
    try:
        first = driver.progress()
        if first.users != level.users:
            raise AssertionError(f"start() returned with {first.users} users running, not {level.users}")
        _expect_error(lambda: driver.start(level, duration, run_id), "start() while running")
        last = _await_requests(driver, patience)
    finally:
        summary = driver.stop()
    if summary.requests < last.requests:
        raise AssertionError(f"summary counts {summary.requests} requests, progress saw {last.requests}")
    if summary.failures > summary.requests or summary.duration <= 0:
        raise AssertionError(f"implausible summary {summary}")
    if driver.stop() != summary:
        raise AssertionError("a second stop() answered differently")
    _expect_error(lambda: driver.start(too_many, duration, run_id), "a level over max_users after a run")
    if driver.stop().requests != 0:
        raise AssertionError("after a refused start, stop() reported the previous run")
    return last


def _await_requests(driver: LoadDriver, patience: float) -> LoadProgress:
    deadline = time.monotonic() + patience
    while True:
        current = driver.progress()
        if current.requests > 0 and current.rps > 0:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"no requests within {patience:g}s: {current}")
        time.sleep(0.1)


def _expect_error(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except LoadError:
        return
    raise AssertionError(f"{what} did not raise LoadError")
