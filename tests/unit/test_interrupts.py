"""Interrupts held back while the run takes the stack down and writes its reports."""

from __future__ import annotations

import os
import signal

import pytest

from harness.interrupts import deferred_interrupts


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_inside_is_noted_not_raised(signum: int) -> None:
    said: list[str] = []
    with deferred_interrupts(said.append) as interrupted:
        assert not interrupted()
        os.kill(os.getpid(), signum)
        os.kill(os.getpid(), signum)  # a second one is noted too, and said once
        finished = True
    assert finished and interrupted()
    assert said == [f"{signal.Signals(signum).name} received: finishing the take-down and the reports first"]


def test_the_handlers_are_given_back() -> None:
    before = signal.getsignal(signal.SIGINT)
    with deferred_interrupts(lambda line: None):
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
