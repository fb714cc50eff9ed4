import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.breaker import CircuitBreaker, Permit, State


class Clock:
    """Monotonic and wall clocks moved by hand; wall = monotonic + a fixed epoch offset."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now


def make(clock: Clock, *, threshold: int = 5, reset: float = 30.0, enabled: bool = True) -> CircuitBreaker:
    return CircuitBreaker(
        "redis",
        failure_threshold=threshold,
        reset_timeout_s=reset,
        enabled=enabled,
        monotonic=clock.monotonic,
        wall=clock.wall,
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        permit = breaker.acquire()
        assert permit is not None
        breaker.on_failure(permit)


def half_open_trial(reset: float) -> tuple[Clock, CircuitBreaker, Permit]:
    """A breaker opened by 5 failures, its reset timeout just passed, and the one trial it lets through."""
    clock = Clock()
    breaker = make(clock, reset=reset)
    fail(breaker, 5)
    clock.now += reset
    trial = breaker.acquire()
    assert trial is not None and trial.is_trial
    return clock, breaker, trial


def test_opens_after_exactly_threshold_consecutive_failures() -> None:
    clock = Clock()
    breaker = make(clock)
    fail(breaker, 4)
    assert breaker.state is State.CLOSED
    fail(breaker, 1)
    snap = breaker.snapshot()
    assert snap.state is State.OPEN
    assert snap.last_open_failures == 5
    assert snap.opened_total == 1
    assert snap.last_opened_at == clock.wall()


def test_success_resets_the_consecutive_count() -> None:
    breaker = make(Clock())
    fail(breaker, 4)
    permit = breaker.acquire()
    assert permit is not None
    breaker.on_success(permit)
    assert breaker.snapshot().consecutive_failures == 0
    fail(breaker, 4)
    assert breaker.state is State.CLOSED


def test_open_short_circuits_until_reset_timeout() -> None:
    clock = Clock()
    breaker = make(clock, reset=30.0)
    fail(breaker, 5)
    clock.now += 29.9
    assert breaker.acquire() is None
    assert breaker.state is State.OPEN


def test_half_open_at_exact_transition_time_and_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = make(clock, reset=30.0)
    fail(breaker, 5)
    opened_at = breaker.snapshot().last_opened_at
    assert opened_at is not None
    clock.now += 47.0  # nobody looked at the breaker for a while
    snap = breaker.snapshot()
    assert snap.state is State.HALF_OPEN
    assert snap.last_half_open_at == pytest.approx(opened_at + 30.0)
    trial = breaker.acquire()
    assert trial is not None and trial.is_trial
    assert breaker.acquire() is None  # only one trial at a time


def test_trial_success_closes() -> None:
    _clock, breaker, trial = half_open_trial(reset=3.0)
    breaker.on_success(trial)
    snap = breaker.snapshot()
    assert snap.state is State.CLOSED
    assert snap.consecutive_failures == 0
    assert breaker.acquire() is not None


def test_trial_failure_reopens_and_restarts_the_timer() -> None:
    clock, breaker, trial = half_open_trial(reset=3.0)
    breaker.on_failure(trial)
    snap = breaker.snapshot()
    assert snap.state is State.OPEN
    assert snap.opened_total == 2
    assert snap.last_open_failures == 5  # set only when opening from closed
    assert snap.last_opened_at == clock.wall()
    clock.now += 2.9
    assert breaker.acquire() is None
    clock.now += 0.1
    assert breaker.state is State.HALF_OPEN


def test_abandoned_trial_frees_the_half_open_slot() -> None:
    _clock, breaker, trial = half_open_trial(reset=1.0)
    breaker.abandon(trial)
    assert breaker.acquire() is not None


def test_straggler_results_from_an_older_state_are_ignored() -> None:
    clock = Clock()
    breaker = make(clock, reset=1.0)
    early = breaker.acquire()  # let through while closed, answers late
    assert early is not None
    fail(breaker, 5)
    clock.now += 1.0
    trial = breaker.acquire()
    assert trial is not None
    breaker.on_success(early)  # must not close the breaker behind the trial's back
    assert breaker.state is State.HALF_OPEN
    breaker.on_failure(trial)
    assert breaker.state is State.OPEN


def test_disabled_breaker_never_short_circuits_but_counts() -> None:
    breaker = make(Clock(), enabled=False)
    fail(breaker, 50)
    snap = breaker.snapshot()
    assert snap.state is State.CLOSED
    assert snap.consecutive_failures == 50
    assert snap.opened_total == 0
    assert breaker.acquire() is not None


@pytest.mark.parametrize("threshold", [1, 5, 10])
def test_threshold_is_honoured(threshold: int) -> None:
    breaker = make(Clock(), threshold=threshold)
    fail(breaker, threshold - 1)
    assert breaker.state is State.CLOSED
    fail(breaker, 1)
    assert breaker.state is State.OPEN
    assert breaker.snapshot().last_open_failures == threshold


def test_never_opened_has_no_timestamps() -> None:
    snap = make(Clock()).snapshot()
    assert snap.last_opened_at is None
    assert snap.last_half_open_at is None
    assert snap.state is State.CLOSED


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        make(Clock(), threshold=0)
