import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest
from prometheus_client import CollectorRegistry

from agent.metrics import Metrics
from agent.retry import Backoff, RetriesExhausted, RetryPolicy, retry_async

T = TypeVar("T")


def test_rule_10_2_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 3
    assert policy.delays() == (1.0, 2.0, 4.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 4.0, 4.0]  # retry-forever stays at 4 s
    assert policy.cooldown_s == 30.0


def test_delays_follow_the_multiplier() -> None:
    assert RetryPolicy(max_retries=3, initial_delay_s=0.5, multiplier=3).delays() == (0.5, 1.5, 4.5)
    assert RetryPolicy(initial_delay_s=0).delays() == (0.0, 0.0, 0.0)  # the no-retry-backoff mutant


def test_bad_policy_rejected() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)
    with pytest.raises(ValueError):
        RetryPolicy(cooldown_s=-1)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Clock:
    """A monotonic clock that the fake sleep moves on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_retries_until_success_with_exponential_waits() -> None:
    clock = Clock()
    calls = 0
    seen: list[tuple[int, float]] = []

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        clock.now += 0.25  # each attempt takes a while: not part of the measured interval
        if calls < 3:
            raise ConnectionError("down")
        return "up"

    result = run(
        retry_async(
            flaky,
            RetryPolicy(),
            sleep=clock.sleep,
            clock=clock,
            observe=lambda n, s: seen.append((n, s)),
        )
    )
    assert result == "up"
    assert calls == 3
    assert clock.waits == [1.0, 2.0]
    assert seen == [(1, 1.0), (2, 2.0)]


def test_gives_up_after_the_first_attempt_and_three_retries() -> None:
    clock = Clock()
    calls = 0
    seen: list[tuple[int, float]] = []

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    with pytest.raises(RetriesExhausted) as info:
        run(
            retry_async(
                down, RetryPolicy(), sleep=clock.sleep, clock=clock, observe=lambda n, s: seen.append((n, s))
            )
        )
    assert calls == 4
    assert clock.waits == [1.0, 2.0, 4.0]
    assert seen == [(1, 1.0), (2, 2.0), (3, 4.0)]
    assert info.value.attempts == 4
    assert isinstance(info.value.last, ConnectionError)


def test_errors_outside_retry_on_are_not_retried() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run(retry_async(broken, RetryPolicy(3, 0.0, 2.0), retry_on=(OSError,)))
    assert calls == 1


def test_a_loop_cools_down_after_a_series_and_starts_again_at_1_s() -> None:
    clock = Clock()
    seen: list[tuple[int, float]] = []
    backoff = Backoff(RetryPolicy(), lambda n, s: seen.append((n, s)), clock)
    waits = []
    for _ in range(6):  # every attempt fails: a series of 4, then the first 2 of the next
        backoff.attempt()
        clock.now += 0.1
        waits.append(backoff.failed())
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 30.0, 1.0, 2.0]
    # the attempt after the cool-down is a new series' first, not a retry
    assert [n for n, _ in seen] == [1, 2, 3, 1]
    assert [s for _, s in seen] == pytest.approx([1.0, 2.0, 4.0, 1.0])


def test_success_ends_a_series() -> None:
    clock = Clock()
    seen: list[int] = []
    backoff = Backoff(RetryPolicy(), lambda n, s: seen.append(n), clock)
    backoff.attempt()
    assert backoff.failed() == 1.0
    backoff.attempt()
    backoff.succeeded()
    backoff.attempt()  # the next attempt after a success is a first one
    assert backoff.failed() == 1.0
    backoff.attempt()
    assert seen == [1, 1]


def test_retry_forever_keeps_retrying_at_the_third_wait() -> None:
    clock = Clock()
    seen: list[int] = []
    backoff = Backoff(RetryPolicy(max_retries=1_000_000), lambda n, s: seen.append(n), clock)
    waits = []
    for _ in range(6):
        backoff.attempt()
        waits.append(backoff.failed())
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert seen == [1, 2, 3, 4, 5]


def test_the_metric_labels_retries_1_to_3_and_4_plus() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.declare_retries("queue_consumer")
    for retry, seconds in [(1, 1.01), (2, 2.02), (3, 4.03), (4, 4.0), (9, 4.0)]:
        metrics.observe_retry("queue_consumer", retry, seconds)

    def count(retry: str, le: str) -> float | None:
        return registry.get_sample_value(
            "agent_retry_interval_seconds_bucket", {"operation": "queue_consumer", "retry": retry, "le": le}
        )

    assert count("1", "0.9") == 0 and count("1", "1.5") == 1
    assert count("2", "1.9") == 0 and count("2", "3.0") == 1
    assert count("3", "3.9") == 0 and count("3", "6.0") == 1
    assert count("4+", "6.0") == 2
    assert (
        registry.get_sample_value(
            "agent_retry_interval_seconds_count", {"operation": "queue_consumer", "retry": "4+"}
        )
        == 2
    )
