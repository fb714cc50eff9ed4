"""Exponential backoff (rule 10.2) for background work: connecting, state saves,
draining the publish buffer, consumer reconnects.  The request path never retries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    initial_delay_s: float = 1.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_delay_s < 0 or self.multiplier < 1:
            raise ValueError("initial_delay_s must be >= 0 and multiplier >= 1")

    def delay(self, failures: int) -> float:
        """Delay after the n-th consecutive failure (1-based); grows until max_attempts, then stays."""
        exponent = min(max(failures, 1), self.max_attempts) - 1
        return float(self.initial_delay_s * self.multiplier**exponent)

    def delays(self) -> tuple[float, ...]:
        """The waits between the attempts of one retry series (max_attempts - 1 of them)."""
        return tuple(self.delay(n) for n in range(1, self.max_attempts))


class RetriesExhausted(Exception):
    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last!r}")
        self.attempts = attempts
        self.last = last


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_retry: Callable[[int, BaseException, float], object] | None = None,
) -> T:
    """Run operation up to max_attempts times with exponential waits between attempts."""
    waits = policy.delays()
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return await operation()
        except retry_on as exc:
            if attempt == policy.max_attempts:
                raise RetriesExhausted(attempt, exc) from exc
            wait = waits[attempt - 1]
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
