import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.retry import RetriesExhausted, RetryPolicy, retry_async

T = TypeVar("T")


def test_rule_10_2_defaults() -> None:
    policy = RetryPolicy()
    assert policy.delays() == (1.0, 2.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_delays_follow_the_multiplier() -> None:
    assert RetryPolicy(max_attempts=4, initial_delay_s=0.5, multiplier=3).delays() == (0.5, 1.5, 4.5)


def test_bad_policy_rejected() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_retries_until_success_with_exponential_waits() -> None:
    waits: list[float] = []
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")
        return "up"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert run(retry_async(flaky, RetryPolicy(3, 1.0, 2.0), sleep=sleep)) == "up"
    assert calls == 3
    assert waits == [1.0, 2.0]


def test_gives_up_after_max_attempts() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    async def sleep(seconds: float) -> None:
        return None

    with pytest.raises(RetriesExhausted) as info:
        run(retry_async(down, RetryPolicy(3, 1.0, 2.0), sleep=sleep))
    assert calls == 3
    assert info.value.attempts == 3
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
