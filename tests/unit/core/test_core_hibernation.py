"""hibernation (rules 6.3, 6.4) on synthetic series of an idle scenario: hibernating on time, giving memory
back and waking fast passes (a shortened idle timeout said in the verdict); never hibernating, keeping the
memory, a slow or missing wake-up fail; an idle window shorter than the timeout or no data is an error."""

from __future__ import annotations

from core_synth import T0, context, timeline

from harness.analyzers.hibernation import HibernationParams
from harness.analyzers.hibernation import run as hibernation
from harness.metrics.fake import FakeMetricsSource

SERVICE = "agent-summarizer"
MIB = 1024**2
PARAMS = HibernationParams(idle_timeout=20, tolerance=5)


def idle_run(
    hibernate_at: float | None = 20,
    released: bool = True,
    wake_seconds: float | None = 0.05,
    fault: float = 40,
    params: HibernationParams = PARAMS,
    wake_after_recovery_start: float = 1,
) -> tuple[FakeMetricsSource, object]:
    """Steady 30 s, idle ``fault`` s, recovery 30 s; hibernation ``hibernate_at`` s into the idle window,
    the wake-up ``wake_after_recovery_start`` s into recovery (negative: before it)."""
    tl = timeline(steady=30, fault=fault, recovery=30)
    assert tl.fault is not None and tl.recovery is not None
    asleep = tl.fault.start + hibernate_at if hibernate_at is not None else None
    woke = tl.recovery.start + wake_after_recovery_start if wake_seconds is not None else None
    seconds = [T0 + i for i in range(int(tl.whole.duration) + 1)]

    def sleeping(t: float) -> bool:
        return asleep is not None and asleep <= t and (woke is None or t < woke)

    fake = FakeMetricsSource()
    q = params.queries(SERVICE, "service")
    fake.put(q["hibernating"], {}, [(t, float(sleeping(t))) for t in seconds])
    fake.put(q["working_set"], {}, [(t, (40 if sleeping(t) and released else 100) * MIB) for t in seconds])
    woken = [(t, float(woke is not None and t >= woke)) for t in seconds]
    fake.put(q["wakeups"], {}, woken)
    fake.put(q["wake_seconds"], {}, [(t, v * (wake_seconds or 0)) for t, v in woken])
    for le, bound in (("1.0", 1.0), ("30.0", 30.0), ("+Inf", float("inf"))):
        within = wake_seconds is not None and wake_seconds <= bound
        fake.put(q["buckets"], {"le": le}, [(t, v if within else 0.0) for t, v in woken])
    return fake, tl


def judged(params: HibernationParams = PARAMS, **kwargs: object):
    fake, tl = idle_run(params=params, **kwargs)  # type: ignore[arg-type]
    return hibernation(context(fake, "whole", tl=tl, faulted=SERVICE, service_label="service"), params)  # type: ignore[arg-type]


def test_hibernating_on_time_releasing_and_waking_fast_passes_and_says_the_timeout_was_shortened() -> None:
    finding = judged()
    assert finding.status == "pass", finding.reason
    assert "shortened to 20 s through the stack's knob (the rule's is 300 s)" in finding.reason
    figures = {f.name: f.value for f in finding.measured}  # type: ignore[union-attr]
    assert figures[f"hibernated_after[{SERVICE}]"] == 20
    assert figures[f"memory_released[{SERVICE}]"] == 0.6
    assert figures[f"wakeup_seconds[{SERVICE}]"] == 0.05


def test_the_rules_own_timeout_needs_no_note() -> None:
    params = HibernationParams()
    finding = judged(params, hibernate_at=300, fault=320)
    assert finding.status == "pass" and "shortened" not in finding.reason


def test_never_hibernating_fails() -> None:
    finding = judged(hibernate_at=None, wake_seconds=None)
    assert finding.status == "fail" and "did not hibernate in 40 s of idleness" in finding.reason


def test_a_wake_up_before_the_recovery_mark_counts() -> None:
    # The load resumes during the revert of the idle fault; recovery is marked once it runs again, so the
    # first request (and the wake-up) can come a few seconds before the mark.
    finding = judged(wake_after_recovery_start=-3)
    assert finding.status == "pass", finding.reason


def test_hibernating_too_early_fails() -> None:
    finding = judged(hibernate_at=2)
    assert finding.status == "fail" and "hibernated 2 s into idleness" in finding.reason


def test_keeping_the_memory_fails() -> None:
    finding = judged(released=False)
    assert finding.status == "fail" and "(0% released)" in finding.reason


def test_a_slow_or_missing_wake_up_fails() -> None:
    slow = judged(wake_seconds=45)
    assert slow.status == "fail" and "1 over 30 s" in slow.reason
    asleep = judged(wake_seconds=None)
    assert asleep.status == "fail" and "still hibernating at the end of recovery" in asleep.reason


def test_an_idle_window_shorter_than_the_timeout_or_no_data_is_an_error() -> None:
    short = judged(HibernationParams())  # 300 s timeout, 40 s idle window
    assert short.status == "error" and "shorter than the idle timeout" in short.reason
    empty = hibernation(
        context(FakeMetricsSource(), "whole", tl=timeline(steady=30, fault=40, recovery=30), faulted=SERVICE),
        PARAMS,
    )
    assert empty.status == "error" and "no agent_hibernating" in empty.reason
    baseline = hibernation(context(FakeMetricsSource(), "whole", tl=timeline(fault=None)), PARAMS)
    assert baseline.status == "error" and "no idle fault" in baseline.reason
