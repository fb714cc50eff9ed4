"""Wait for a condition with an explicit deadline: measure, never sleep-and-hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    interval: float,
    what: str,
    error: type[HarnessError] = HarnessError,
    transient: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``condition`` until it returns a truthy value, and return that value.

    Exceptions listed in ``transient`` count as "not yet". When ``timeout`` seconds pass, raise
    ``error`` naming ``what`` was awaited and the last transient error seen.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = condition()
        except transient as exc:
            last_error, value = exc, None
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise error(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(interval)
