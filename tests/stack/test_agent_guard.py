import asyncio
import time

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.breaker import CircuitBreaker, State
from agent.guard import DependencyFailed, Guard, ShortCircuited, bounded


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float | None]] = []

    def observe_call(self, dependency: str, outcome: str, seconds: float | None) -> None:
        self.calls.append((dependency, outcome, seconds))

    def outcomes(self) -> list[str]:
        return [outcome for _, outcome, _ in self.calls]


def make_guard(
    *, timeout: float | None = 1.0, threshold: int = 5, reset: float = 30.0, enabled: bool = True
) -> tuple[Guard, Recorder, list[int]]:
    recorder = Recorder()
    resets: list[int] = []
    breaker = CircuitBreaker("redis", failure_threshold=threshold, reset_timeout_s=reset, enabled=enabled)
    guard = Guard("redis", breaker, timeout, recorder, on_failure=lambda: resets.append(1))
    return guard, recorder, resets


async def ok() -> str:
    return "pong"


async def refused() -> str:
    raise ConnectionRefusedError("connect call failed")


async def frozen() -> str:
    await asyncio.sleep(3600)
    return "never"


def test_success_is_reported_and_returned() -> None:
    guard, recorder, _ = make_guard()
    assert asyncio.run(guard.call(ok)) == "pong"
    assert recorder.outcomes() == ["success"]


def test_five_failures_open_then_short_circuit_without_calling() -> None:
    guard, recorder, resets = make_guard()
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError("down")

    async def scenario() -> None:
        for _ in range(5):
            with pytest.raises(DependencyFailed) as info:
                await guard.call(counted)
            assert info.value.dependency == "redis"
            assert "ConnectionRefusedError" in info.value.reason
        assert guard.breaker.state is State.OPEN
        for _ in range(3):
            with pytest.raises(ShortCircuited):
                await guard.call(counted)

    asyncio.run(scenario())
    assert calls == 5
    assert recorder.outcomes() == ["failure"] * 5 + ["short_circuited"] * 3
    assert len(resets) == 5  # the client is dropped after every failure


def test_timeout_is_a_failure_and_returns_on_time() -> None:
    guard, recorder, _ = make_guard(timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DependencyFailed) as info:
        asyncio.run(guard.call(frozen))
    elapsed = time.monotonic() - started
    assert "TimeoutError" in info.value.reason
    assert 0.15 < elapsed < 2.0
    assert recorder.outcomes() == ["failure"]
    assert guard.breaker.snapshot().consecutive_failures == 1


def test_per_call_timeout_only_shortens() -> None:
    guard, _, _ = make_guard(timeout=5.0)
    started = time.monotonic()
    with pytest.raises(DependencyFailed):
        asyncio.run(guard.call(frozen, timeout=0.1))
    assert time.monotonic() - started < 2.0


def test_no_timeout_mutant_waits_for_the_dependency() -> None:
    guard, _, _ = make_guard(timeout=None)

    async def scenario() -> bool:
        task = asyncio.ensure_future(guard.call(frozen, timeout=0.1))
        await asyncio.sleep(0.5)
        still_waiting = not task.done()
        task.cancel()
        return still_waiting

    assert asyncio.run(scenario())


def test_disabled_breaker_lets_every_call_through() -> None:
    guard, recorder, _ = make_guard(enabled=False)

    async def scenario() -> None:
        for _ in range(12):
            with pytest.raises(DependencyFailed):
                await guard.call(refused)

    asyncio.run(scenario())
    assert recorder.outcomes() == ["failure"] * 12


def test_half_open_trial_closes_on_success() -> None:
    guard, recorder, _ = make_guard(threshold=2, reset=0.2)

    async def scenario() -> None:
        for _ in range(2):
            with pytest.raises(DependencyFailed):
                await guard.call(refused)
        with pytest.raises(ShortCircuited):
            await guard.call(ok)
        await asyncio.sleep(0.25)
        assert guard.breaker.state is State.HALF_OPEN
        assert await guard.call(ok) == "pong"
        assert guard.breaker.state is State.CLOSED

    asyncio.run(scenario())
    assert recorder.outcomes() == ["failure", "failure", "short_circuited", "success"]


def test_cancelled_trial_does_not_wedge_half_open() -> None:
    guard, _, _ = make_guard(threshold=1, reset=0.0, timeout=None)

    async def scenario() -> None:
        with pytest.raises(DependencyFailed):
            await guard.call(refused)
        trial = asyncio.ensure_future(guard.call(frozen))
        await asyncio.sleep(0.05)
        trial.cancel()  # the client went away mid-trial
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert await guard.call(ok) == "pong"

    asyncio.run(scenario())


def test_bounded_does_not_wait_for_a_slow_cancellation() -> None:

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.shield(asyncio.sleep(1.0))  # a client closing a frozen socket

    async def scenario() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await bounded(stubborn(), 0.1)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.8


def test_bounded_passes_results_and_errors_through() -> None:
    assert asyncio.run(bounded(ok(), 1.0)) == "pong"
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(bounded(refused(), 1.0))
    assert asyncio.run(bounded(ok(), None)) == "pong"
