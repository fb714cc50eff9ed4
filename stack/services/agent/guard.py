"""The request path's protection around one dependency call: circuit breaker, timeout,
outcome reporting.  Pure (stdlib only) so its semantics are unit-tested.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from .breaker import CircuitBreaker

T = TypeVar("T")


class DependencyError(Exception):
    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency = dependency
        self.reason = reason


class ShortCircuited(DependencyError):
    def __init__(self, dependency: str) -> None:
        super().__init__(dependency, "circuit breaker open")


class DependencyFailed(DependencyError):
    pass


class CallObserver(Protocol):
    def observe_call(self, dependency: str, outcome: str, seconds: float | None) -> None:
        """outcome: success | failure | short_circuited (seconds is None for the latter)."""


async def bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    """Like asyncio.wait_for, but on timeout it does not wait for the cancelled call to
    clean up (wait_for does, and a client closing a frozen socket could then hold the
    caller past the timeout).  timeout None = wait forever."""
    if timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_swallow)
    raise TimeoutError(f"no answer within {timeout:g} s")


def _swallow(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Guard:
    """One dependency's breaker + timeout around each call, outcomes reported to an observer."""

    def __init__(
        self,
        name: str,
        breaker: CircuitBreaker,
        timeout: float | None,
        observer: CallObserver,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.breaker = breaker
        self.timeout = timeout
        self._observer = observer
        self._on_failure = on_failure

    async def call(self, operation: Callable[[], Awaitable[T]], *, timeout: float | None = None) -> T:
        """One attempt.  `timeout` may only shorten the configured one; with no configured
        timeout (DEPENDENCY_TIMEOUT_S=0) nothing is bounded."""
        limit = self.timeout if timeout is None or self.timeout is None else min(timeout, self.timeout)
        permit = self.breaker.acquire()
        if permit is None:
            self._observer.observe_call(self.name, "short_circuited", None)
            raise ShortCircuited(self.name)
        started = time.monotonic()
        try:
            result = await bounded(operation(), limit)
        except asyncio.CancelledError:
            self.breaker.abandon(permit)
            raise
        except Exception as exc:
            self.breaker.on_failure(permit)
            self._observer.observe_call(self.name, "failure", time.monotonic() - started)
            if self._on_failure is not None:
                self._on_failure()
            raise DependencyFailed(self.name, describe(exc)) from exc
        self.breaker.on_success(permit)
        self._observer.observe_call(self.name, "success", time.monotonic() - started)
        return result


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
