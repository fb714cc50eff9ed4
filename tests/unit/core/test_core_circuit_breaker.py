"""Rule 3.4 analyzer on a simulated breaker: the reference behaviour passes, each broken one does not."""

from __future__ import annotations

import pytest
from core_synth import BreakerAgent, context, put_breaker, timeline

from harness.analyzers.circuit_breaker import CircuitBreakerParams, run
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure

PARAMS = CircuitBreakerParams(dependency="redis")


def judge(agent: BreakerAgent, tl=None, down=None, params=PARAMS, omit=(), scrape=1.0):
    tl = tl or timeline()
    fault = tl.fault
    assert fault is not None
    fake = FakeMetricsSource(scrape_interval=scrape)
    put_breaker(fake, params, agent.simulate(tl, down or (fault.start, fault.end)), omit=omit)
    return run(context(fake, "whole", tl, scrape=scrape), params)


def figures(finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name.split("[")[0]: f.value for f in finding.measured if isinstance(f, Figure)}


def test_reference_breaker_passes_with_its_figures():
    finding = judge(BreakerAgent())
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    assert measured["failures_at_open"] == 5
    assert measured["half_open_delay"] == pytest.approx(30.0, abs=0.5)
    assert measured["fallbacks_served"] > 0
    assert measured["short_circuited"] > 0
    assert measured["final_state"] == 0
    assert any("circuit_breaker_state" in q for q in finding.evidence.queries)
    assert finding.evidence.samples


def test_opening_after_ten_failures_fails():
    finding = judge(BreakerAgent(threshold=10))
    assert finding.status == "fail"
    assert "opened after 10 consecutive failures, expected exactly 5" in finding.reason


def test_half_open_after_sixty_seconds_fails():
    finding = judge(BreakerAgent(half_open_after=60))
    assert finding.status == "fail"
    assert "half-opened 60.00 s after opening" in finding.reason


def test_half_open_never_seen_in_a_long_enough_run_fails():
    finding = judge(BreakerAgent(half_open_after=500))
    assert finding.status == "fail"
    assert "did not half-open within 32 s" in finding.reason


def test_no_fallbacks_fails():
    finding = judge(BreakerAgent(fallback=False))
    assert finding.status == "fail"
    assert "no fallback responses while open" in finding.reason


def test_disabled_breaker_fails_because_calls_failed_and_it_never_opened():
    finding = judge(BreakerAgent(enabled=False))
    assert finding.status == "fail"
    assert "never opened during the fault" in finding.reason


def test_breaker_that_never_closes_fails():
    finding = judge(BreakerAgent(closes=False))
    assert finding.status == "fail"
    assert "still half-open at the end of recovery" in finding.reason


def test_dependency_down_to_the_end_cycles_open_and_half_open_without_failing_the_timing():
    tl = timeline()
    finding = judge(BreakerAgent(), tl, down=(tl.fault.start, tl.whole.end + 1))
    assert finding.status == "error"  # it cannot have closed: the dependency never came back
    assert [c.status for c in finding.evidence.checks if "half-open" in c.name] == ["pass"] * 3


def test_recovery_too_short_to_see_closing_is_an_error_not_a_pass():
    tl = timeline(recovery=5)
    finding = judge(BreakerAgent(), tl, down=(tl.fault.start, tl.whole.end + 1))
    assert finding.status == "error"
    assert "too soon to see it close" in finding.reason


def test_run_too_short_to_see_half_open_is_an_error():
    tl = timeline(fault=10, recovery=5)
    finding = judge(BreakerAgent(), tl)
    assert finding.status == "error"
    assert "too short to see a half-open" in finding.reason


def test_missing_data_is_an_error_never_a_pass():
    fake = FakeMetricsSource()
    finding = run(context(fake, "whole"), PARAMS)
    assert finding.status == "error"
    assert "no circuit_breaker_state" in finding.reason


def test_missing_timestamps_with_a_visible_open_is_an_error():
    finding = judge(BreakerAgent(), omit=("opened_at",))
    assert finding.status == "error"
    assert "timing cannot be judged" in finding.reason


def test_calls_hanging_without_a_timeout_fail():
    finding = judge(BreakerAgent(hangs=True))
    assert finding.status == "fail"
    assert "they hang instead of failing" in finding.reason


def test_no_load_is_an_error():
    finding = judge(BreakerAgent(rate=0))
    assert finding.status == "error"
    assert "did not reach this service" in finding.reason


def test_breaker_metrics_missing_while_calls_fail_is_a_fail():
    finding = judge(BreakerAgent(enabled=False), omit=("state",))
    assert finding.status == "fail"
    assert "no circuit_breaker_state" in finding.reason


def test_open_before_the_fault_is_an_error():
    tl = timeline()
    finding = judge(BreakerAgent(), tl, down=(tl.steady.start + 2, tl.fault.end))
    assert finding.status == "error"
    assert "not closed before the fault" in finding.reason


def test_scrape_coarser_than_tolerance_is_an_error():
    finding = judge(BreakerAgent(), scrape=5.0)
    assert finding.status == "error"
    assert "coarser than the 2 s" in finding.reason


def test_no_fault_window_is_an_error():
    finding = run(context(FakeMetricsSource(), "whole", timeline(fault=None)), PARAMS)
    assert finding.status == "error"


def test_half_open_within_tolerance_passes_and_just_outside_fails():
    assert judge(BreakerAgent(half_open_after=31.5)).status == "pass"
    outside = judge(BreakerAgent(half_open_after=33))
    assert outside.status == "fail"
    assert "half-opened 33.00 s" in outside.reason


def test_each_instance_is_judged_and_one_bad_instance_fails_the_verdict():
    tl = timeline()
    fake = FakeMetricsSource()
    down = (tl.fault.start, tl.fault.end)
    put_breaker(fake, PARAMS, BreakerAgent().simulate(tl, down), {"job": "a", "instance": "a:1"})
    put_breaker(fake, PARAMS, BreakerAgent(threshold=7).simulate(tl, down), {"job": "b", "instance": "b:1"})
    finding = run(context(fake, "whole", tl), PARAMS)
    assert finding.status == "fail"
    assert "b/b:1 failures at open" in finding.reason
    assert "a/a:1" not in finding.reason


def test_params_reject_nonsense():
    with pytest.raises(ValueError, match="tolerance"):
        CircuitBreakerParams(dependency="x", tolerance=0)
