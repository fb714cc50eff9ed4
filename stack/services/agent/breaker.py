"""Circuit breaker state machine (rule 3.4), pure and clock-injectable.

closed --threshold consecutive failures--> open --reset timeout--> half_open
half_open --trial succeeds--> closed;  half_open --trial fails--> open

The open -> half_open transition is a function of time: it happens at exactly
opened_at + reset_timeout, whether or not a call arrives then, so the exported
timestamp is the true transition time.  Results of calls that were let through
in an earlier state (generation) are ignored, so a slow straggler cannot close
or reopen the breaker behind the trial call's back.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable


class State(enum.IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclasses.dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; hand it back with on_success/on_failure/abandon."""

    generation: int
    is_trial: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    state: State
    consecutive_failures: int
    opened_total: int
    last_open_failures: int
    last_opened_at: float | None  # unix time of the last transition to open
    last_half_open_at: float | None  # unix time of the last transition to half_open


class CircuitBreaker:
    __slots__ = (
        "_consecutive",
        "_enabled",
        "_generation",
        "_half_open_at",
        "_last_open_failures",
        "_monotonic",
        "_opened_at",
        "_opened_mono",
        "_opened_total",
        "_reset_timeout",
        "_state",
        "_threshold",
        "_trial_out",
        "_wall",
        "name",
    )

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        reset_timeout_s: float,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if reset_timeout_s < 0:
            raise ValueError("reset_timeout_s must be >= 0")
        self.name = name
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout_s
        self._enabled = enabled
        self._monotonic = monotonic
        self._wall = wall
        self._state = State.CLOSED
        self._generation = 0
        self._consecutive = 0
        self._opened_total = 0
        self._last_open_failures = 0
        self._opened_mono = 0.0
        self._opened_at: float | None = None
        self._half_open_at: float | None = None
        self._trial_out = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def state(self) -> State:
        self._advance()
        return self._state

    def acquire(self) -> Permit | None:
        """A permit to call the dependency, or None: short-circuit."""
        self._advance()
        if self._state is State.CLOSED:
            return Permit(self._generation, is_trial=False)
        if self._state is State.HALF_OPEN and not self._trial_out:
            self._trial_out = True
            return Permit(self._generation, is_trial=True)
        return None

    def on_success(self, permit: Permit) -> None:
        self._advance()
        if permit.generation != self._generation:
            return
        self._consecutive = 0
        if self._state is State.HALF_OPEN:
            self._enter(State.CLOSED)

    def on_failure(self, permit: Permit) -> None:
        self._advance()
        if permit.generation != self._generation:
            return
        self._consecutive += 1
        if self._state is State.HALF_OPEN:
            self._open()
        elif self._enabled and self._consecutive >= self._threshold:
            self._last_open_failures = self._consecutive
            self._open()

    def abandon(self, permit: Permit) -> None:
        """The call was cancelled before it said anything about the dependency."""
        if permit.is_trial and permit.generation == self._generation and self._state is State.HALF_OPEN:
            self._trial_out = False

    def snapshot(self) -> Snapshot:
        self._advance()
        return Snapshot(
            name=self.name,
            state=self._state,
            consecutive_failures=self._consecutive,
            opened_total=self._opened_total,
            last_open_failures=self._last_open_failures,
            last_opened_at=self._opened_at,
            last_half_open_at=self._half_open_at,
        )

    def _open(self) -> None:
        self._opened_total += 1
        self._opened_mono = self._monotonic()
        self._opened_at = self._wall()
        self._enter(State.OPEN)

    def _advance(self) -> None:
        if self._state is State.OPEN and self._monotonic() - self._opened_mono >= self._reset_timeout:
            assert self._opened_at is not None
            self._half_open_at = self._opened_at + self._reset_timeout
            self._enter(State.HALF_OPEN)

    def _enter(self, state: State) -> None:
        self._state = state
        self._generation += 1
        self._trial_out = False
