"""Exponential backoff (rule 10.2) for background work: connecting, state saves,
draining the publish buffer, consumer reconnects.  The request path never retries.

A retry series is the first attempt plus at most ``max_retries`` retries (3), waiting
``initial_delay_s`` (1 s) before the first retry and ``multiplier`` (2) times longer before each
next one: 1 s, 2 s, 4 s.  When the last retry fails the series gives up: a one-shot operation
fails (``retry_async`` raises ``RetriesExhausted``); a long-lived loop (``Backoff``: the queue
consumer, the publish-buffer drain) waits ``cooldown_s`` (30 s, the breakers' reset timeout) and
starts a new series, whose first attempt is not a retry and whose first retry waits 1 s again.

Each retry is measured: the monotonic time from the failure of the attempt before it to its own
start (what the service really waited, not what it meant to), handed to ``observe(retry, seconds)``;
the agent exports it as ``agent_retry_interval_seconds{operation, retry}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

GROWTH_RETRIES = 3
"""The wait doubles up to the rule's third retry and then stays (only a policy allowing more retries than
the rule, as the retry-forever mutant, waits that long again)."""

Observe = Callable[[int, float], object]
"""Called at the start of each retry with its number in the series (1-based) and the seconds since the
attempt before it failed."""


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    initial_delay_s: float = 1.0
    multiplier: float = 2.0
    cooldown_s: float = 30.0
    """A long-lived loop's pause after a series gave up, before it starts a new one."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.initial_delay_s < 0 or self.multiplier < 1 or self.cooldown_s < 0:
            raise ValueError("initial_delay_s and cooldown_s must be >= 0 and multiplier >= 1")

    def delay(self, retry: int) -> float:
        """The wait before retry n of a series (1-based): initial x multiplier^(n-1), up to the third."""
        exponent = min(max(retry, 1), GROWTH_RETRIES) - 1
        return float(self.initial_delay_s * self.multiplier**exponent)

    def delays(self) -> tuple[float, ...]:
        """The waits before the retries of one series (max_retries of them)."""
        return tuple(self.delay(n) for n in range(1, self.max_retries + 1))


class RetriesExhausted(Exception):
    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last!r}")
        self.attempts = attempts
        self.last = last


class Backoff:
    """The retry series of one operation, for a loop that retries it: call ``attempt()`` as each attempt
    starts, ``failed()`` when it fails (the wait before the next one) and ``succeeded()`` when it worked."""

    def __init__(
        self,
        policy: RetryPolicy,
        observe: Observe | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._observe = observe
        self._clock = clock
        self.retries = 0
        """Retries made in the current series."""
        self._failed_at: float | None = None  # set while the next attempt is a retry

    @property
    def exhausted(self) -> bool:
        """The series used all its retries: the next failure ends it."""
        return self.retries >= self.policy.max_retries

    def attempt(self) -> None:
        if self._failed_at is None:
            return
        self.retries += 1
        waited, self._failed_at = self._clock() - self._failed_at, None
        if self._observe is not None:
            self._observe(self.retries, waited)

    def failed(self) -> float:
        """The seconds to wait before the next attempt: the next retry's delay, or, when this was the
        series' last retry, the cool-down after which a new series starts (its first attempt no retry)."""
        if self.exhausted:
            self.retries, self._failed_at = 0, None
            return self.policy.cooldown_s
        self._failed_at = self._clock()
        return self.policy.delay(self.retries + 1)

    def succeeded(self) -> None:
        self.retries, self._failed_at = 0, None


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_retry: Callable[[int, BaseException, float], object] | None = None,
    observe: Observe | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run operation once and retry it up to max_retries times with exponential waits; then give up.
    ``on_retry(retry, error, wait)`` is told before each wait."""
    backoff = Backoff(policy, observe, clock)
    while True:
        backoff.attempt()
        try:
            return await operation()
        except retry_on as exc:
            if backoff.exhausted:
                raise RetriesExhausted(backoff.retries + 1, exc) from exc
            wait = backoff.failed()
            if on_retry is not None:
                on_retry(backoff.retries + 1, exc, wait)
            await sleep(wait)
