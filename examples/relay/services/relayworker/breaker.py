"""The dependency's circuit breaker: fabfuel's `circuitbreaker` library, fed call results and watched.

The library is the state machine (rule 3.4): it opens after ``failure_threshold`` consecutive failures,
is half-open ``recovery_timeout`` seconds after opening (a function of time: its ``state`` says so from
that instant on, whether or not a call arrives), lets calls through while half-open, closes on a success
and reopens on a failure. This module adds two things the library leaves to its user:

- a call's result is fed to the library only if the breaker is still in the state that admitted the call.
  The library counts every failure it is told of, and each failure at or past the threshold restarts its
  open timer; without this, calls already in flight when it opened (up to one timeout of them) would push
  the half-open instant back by up to that timeout, and a late success would close it while open;
- the transitions, as the gauges the harness's circuit_breaker analyzer reads (see metrics.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from circuitbreaker import STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN, CircuitBreaker

STATE_VALUES = {STATE_CLOSED: 0, STATE_OPEN: 1, STATE_HALF_OPEN: 2}  # circuit_breaker_state's values


@dataclass(frozen=True, slots=True)
class Admission:
    """Leave to call the dependency, in the state that gave it."""

    state: str


class WatchedBreaker:
    def __init__(
        self, dependency: str, failure_threshold: int, recovery_timeout: float, enabled: bool
    ) -> None:
        self.dependency = dependency
        self.enabled = enabled
        self.recovery_timeout = recovery_timeout
        self._library = CircuitBreaker(
            failure_threshold=failure_threshold, recovery_timeout=recovery_timeout, name=dependency
        )
        self.opened_total = 0
        self.last_open_failures = 0  # consecutive failures when it last opened from closed
        self.last_opened_at = 0.0  # unix time; 0 = never
        self._half_open_before = 0.0  # the half-open of an earlier opening, once a later one replaced it

    @property
    def state(self) -> str:
        return self._library.state if self.enabled else STATE_CLOSED

    @property
    def consecutive_failures(self) -> int:
        return self._library.failure_count if self.enabled else 0

    @property
    def last_half_open_at(self) -> float:
        """When the library last turned half-open: ``recovery_timeout`` after the last opening, once due."""
        due = self.last_opened_at + self.recovery_timeout
        return due if self.last_opened_at and time.time() >= due else self._half_open_before

    def admit(self) -> Admission | None:
        """None while open: the call is short-circuited."""
        state = self.state
        return None if state == STATE_OPEN else Admission(state)

    def succeeded(self, admission: Admission) -> None:
        if self.enabled and self.state == admission.state:
            with self._library:
                pass

    def failed(self, admission: Admission, error: Exception) -> None:
        if not self.enabled or self.state != admission.state:
            return
        try:
            with self._library:
                raise error
        except Exception as raised:
            if raised is not error:
                raise
        if self._library.state == STATE_OPEN:  # this failure opened it (from closed, or again from half-open)
            self._half_open_before = self.last_half_open_at
            self.last_opened_at = time.time()
            self.opened_total += 1
            if admission.state == STATE_CLOSED:
                self.last_open_failures = self._library.failure_count
