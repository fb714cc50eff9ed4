"""Property tests of the window and percentile arithmetic (hypothesis)."""

from __future__ import annotations

import itertools
import math

import pytest
from core_synth import BOUNDS, cumulative
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.metrics.counters import increase
from harness.metrics.histogram import Bucket, estimate_quantile
from harness.metrics.port import Sample
from harness.metrics.resolution import COMPARATORS, compare, decide
from harness.windows import PhaseClock, PhaseMarks, ScenarioTimeline, Window

settings.register_profile("core", deadline=None, max_examples=150)
settings.load_profile("core")

instants = st.floats(min_value=1.6e9, max_value=1.8e9, allow_nan=False)
durations = st.floats(min_value=0, max_value=1e5, allow_nan=False)
latencies = st.lists(st.floats(min_value=0.0001, max_value=120, allow_nan=False), min_size=1, max_size=300)
quantiles = st.floats(min_value=0.001, max_value=1.0)


@given(instants, durations, st.integers(min_value=1, max_value=64))
def test_split_covers_the_window_without_overlap(start, duration, parts):
    window = Window("w", start, start + duration)
    pieces = window.split(parts)
    assert len(pieces) == parts
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    for left, right in itertools.pairwise(pieces):
        assert left.end == right.start  # shared edge, half-open: no overlap, no gap
        assert left.start <= left.end
    assert math.isclose(sum(p.duration for p in pieces), window.duration, rel_tol=1e-9, abs_tol=1e-6)
    t = start + duration / 3
    if not window.empty and window.contains(t):
        assert sum(p.contains(t) for p in pieces) == 1


@given(instants, durations, durations, durations, st.booleans())
def test_timeline_phases_are_contiguous_and_make_the_whole(start, steady, fault, recovery, has_fault):
    if has_fault:
        marks = PhaseMarks(start, start + steady + fault + recovery, start + steady, start + steady + fault)
    else:
        marks = PhaseMarks(start, start + steady)
    timeline = ScenarioTimeline.from_marks(marks)
    phases = timeline.phases
    assert phases[0].start == timeline.whole.start and phases[-1].end == timeline.whole.end
    for left, right in itertools.pairwise(phases):
        assert left.end == right.start
    assert (timeline.fault is not None) == has_fault


@given(latencies, quantiles, quantiles)
def test_quantile_is_monotone_in_q(values, q1, q2):
    low, high = sorted((q1, q2))
    buckets = cumulative(values)
    a, b = estimate_quantile(low, buckets), estimate_quantile(high, buckets)
    assert a is not None and b is not None
    assert a.value <= b.value


@given(latencies, quantiles)
def test_estimate_and_true_quantile_lie_in_the_bucket_it_names(values, q):
    estimate = estimate_quantile(q, cumulative(values))
    assert estimate is not None
    assert estimate.lower <= estimate.value <= estimate.upper
    assert estimate.upper == BOUNDS[-1] or estimate.upper in BOUNDS
    edges = (0.0, *BOUNDS)
    assert estimate.lower in edges and edges.index(estimate.upper) == edges.index(estimate.lower) + 1
    # The nearest-rank quantile of the raw observations is in that same bucket: that is what the
    # resolution guard relies on when it decides with the bucket's edges.
    ordered = sorted(values)
    true = ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1]
    assert estimate.lower < true <= estimate.upper


@given(
    st.lists(
        st.tuples(st.sampled_from(BOUNDS), st.floats(min_value=0, max_value=1e6)), min_size=2, max_size=30
    ),
    quantiles,
)
def test_quantile_of_any_bucket_set_is_finite_or_undefined(pairs, q):
    estimate = estimate_quantile(q, [Bucket(upper, count) for upper, count in pairs])
    if estimate is not None:
        assert not math.isnan(estimate.value)
        assert estimate.lower <= estimate.value <= estimate.upper


@given(
    st.sampled_from(COMPARATORS),
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(0, 50),
    st.floats(0.001, 0.999),
)
def test_decide_is_sound_for_every_value_inside_the_interval(comparator, threshold, lower, width, fraction):
    upper = lower + width
    assume(width > 0)
    value = lower + width * fraction  # strictly inside
    assume(lower < value < upper)
    outcome = decide(comparator, threshold, lower, upper)
    if outcome is not None:
        assert compare(value, comparator, threshold) == outcome


@given(st.lists(st.floats(0, 1000), min_size=1, max_size=50))
def test_increase_of_a_monotone_counter_is_last_minus_first(steps):
    values, total = [], 0.0
    for step in steps:
        total += step
        values.append(total)
    samples = [Sample(float(i), v) for i, v in enumerate(values)]
    assert math.isclose(
        increase(samples, 0.0, float(len(values))) or 0.0, values[-1] - values[0], rel_tol=1e-9, abs_tol=1e-6
    )


@given(st.lists(st.floats(0, 1000), min_size=2, max_size=50))
def test_increase_never_goes_negative_even_across_resets(values):
    samples = [Sample(float(i), v) for i, v in enumerate(values)]
    assert (increase(samples, 0.0, float(len(values))) or 0.0) >= 0


@given(instants, st.floats(min_value=0.0, max_value=1e6))
def test_promql_range_is_whole_milliseconds(start, duration):
    text = Window("w", start, start + duration).promql_range()
    assert text.endswith("ms") and int(text[:-2]) >= 1
    assert abs(int(text[:-2]) - duration * 1000) <= max(1.0, 0.5)


def test_phase_clock_records_the_timeline_in_order():
    ticks = iter([100.0, 130.0, 190.0, 235.0])
    clock = PhaseClock(now=lambda: next(ticks))
    clock.start()
    clock.fault_started()
    clock.fault_ended()
    timeline = clock.finish()
    assert (timeline.steady.start, timeline.fault.start, timeline.recovery.start, timeline.whole.end) == (
        100.0,
        130.0,
        190.0,
        235.0,
    )


def test_phase_clock_rejects_out_of_order_marks_and_closes_a_cut_short_fault():
    ticks = iter([1.0, 2.0, 3.0])
    clock = PhaseClock(now=lambda: next(ticks))
    with pytest.raises(ValueError):
        clock.fault_started()
    clock.start()
    clock.fault_started()
    timeline = clock.finish()
    assert timeline.fault == Window("fault", 2.0, 3.0)
    assert timeline.recovery is not None and timeline.recovery.empty


@given(st.floats(min_value=0.1, max_value=60), durations)
def test_range_step_never_asks_prometheus_for_too_many_points(scrape, duration):
    from harness.analyzers.base import MAX_POINTS, AnalysisContext
    from harness.metrics.fake import FakeMetricsSource

    timeline = ScenarioTimeline.from_marks(PhaseMarks(1.7e9, 1.7e9 + duration))
    context = AnalysisContext(FakeMetricsSource(), timeline.whole, timeline, scrape)
    assert context.step >= scrape
    assert duration / context.step <= MAX_POINTS + 1e-6
