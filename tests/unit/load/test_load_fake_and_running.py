"""FakeLoad keeps the LoadDriver promises, and running() always stops the load."""

from __future__ import annotations

import pytest

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load import FakeLoad, LoadError, LoadProgress, running
from harness.load.conformance import check_driver

LEVEL = LoadLevel(users=4, spawn_rate=4, rate=20.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fake_load_passes_the_driver_conformance_check():
    bounds = LoadBounds(max_users=10, max_rate=50, max_duration=60)
    last = check_driver(FakeLoad(bounds), bounds, LEVEL, 30, "fake-run", patience=2.0)
    assert last.users == 4


def test_fake_load_serves_its_rate_and_failure_ratio_over_its_clock():
    clock = Clock()
    load = FakeLoad(failure_ratio=0.1, clock=clock)
    load.start(LEVEL, 60, "r1")
    clock.now += 10
    assert load.progress() == LoadProgress(rps=20.0, failures=20, users=4, requests=200)
    clock.now += 5
    summary = load.stop()
    assert (summary.requests, summary.failures, summary.duration, summary.rps) == (300, 30, 15.0, 20.0)
    clock.now += 5
    assert load.progress() == LoadProgress(rps=0.0, failures=30, users=0, requests=300)
    assert load.calls == ["start r1", "stop"]


def test_fake_load_checks_the_level_before_starting():
    load = FakeLoad(LoadBounds(max_users=3))
    with pytest.raises(LoadError, match="users 4 exceeds"):
        load.start(LEVEL, 60, "r1")
    assert load.calls == []


def test_running_stops_the_load_when_the_block_raises_and_keeps_the_summary():
    clock = Clock()
    load = FakeLoad(clock=clock)
    with pytest.raises(KeyboardInterrupt), running(load, LEVEL, 60, "r2") as handle:
        clock.now += 2
        assert handle.progress().requests == 40
        raise KeyboardInterrupt
    assert load.calls == ["start r2", "stop"]
    assert handle.summary is not None and handle.summary.requests == 40


def test_running_stops_the_load_when_start_fails():
    load = FakeLoad(start_error="Locust exited with code 2")
    with pytest.raises(LoadError, match="code 2"), running(load, LEVEL, 60, "r3"):
        pytest.fail("the block must not run when start() fails")
    assert load.calls == ["start r3", "stop"]


def test_a_dead_load_is_reported_by_progress_and_still_stops():
    load = FakeLoad()
    with running(load, LEVEL, 60, "r4") as handle:
        load.dies()
        with pytest.raises(LoadError, match="died"):
            handle.progress()
    assert load.calls[-1] == "stop"
