from __future__ import annotations

import pytest

from harness.errors import StackError
from harness.polling import wait_until


def test_returns_the_first_truthy_value() -> None:
    values = iter([0, None, "ready"])
    assert wait_until(lambda: next(values), timeout=5, interval=0, what="x") == "ready"


def test_transient_errors_count_as_not_yet_and_are_named_at_the_deadline() -> None:
    def flaky() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(StackError, match=r"waiting for the thing \(last error: refused\)"):
        wait_until(
            flaky,
            timeout=0.05,
            interval=0.01,
            what="the thing",
            error=StackError,
            transient=(ConnectionError,),
        )


def test_other_errors_propagate() -> None:
    with pytest.raises(ZeroDivisionError):
        wait_until(lambda: 1 / 0, timeout=1, interval=0, what="x")
