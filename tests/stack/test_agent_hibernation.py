import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.hibernation import Hibernation


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_due_only_after_idle_timeout_without_inflight_work() -> None:
    clock = Clock()
    hib = Hibernation(300.0, monotonic=clock)
    clock.now += 299.0
    assert not hib.due(inflight=0)
    clock.now += 1.0
    assert hib.due(inflight=0)
    assert not hib.due(inflight=1)


def test_activity_postpones_hibernation() -> None:
    clock = Clock()
    hib = Hibernation(10.0, monotonic=clock)
    clock.now += 9.0
    hib.touch()
    clock.now += 9.0
    assert not hib.due(inflight=0)


def test_enter_and_wake_measures_the_wakeup() -> None:
    clock = Clock()
    hib = Hibernation(10.0, monotonic=clock)
    clock.now += 10.0
    hib.enter()
    assert hib.hibernating and hib.hibernations_total == 1
    assert not hib.due(inflight=0)  # already hibernating
    clock.now += 100.0
    hib.wake_begin()
    clock.now += 0.25
    assert hib.wake_end() == pytest.approx(0.25)
    assert not hib.hibernating
    assert not hib.due(inflight=0)  # waking counts as activity


def test_zero_timeout_disables_hibernation() -> None:
    clock = Clock()
    hib = Hibernation(0.0, monotonic=clock)
    clock.now += 1e6
    assert not hib.enabled
    assert not hib.due(inflight=0)


def test_misuse_is_an_error() -> None:
    hib = Hibernation(1.0)
    with pytest.raises(RuntimeError):
        hib.wake_begin()
    with pytest.raises(RuntimeError):
        hib.wake_end()
    hib.enter()
    with pytest.raises(RuntimeError):
        hib.enter()
