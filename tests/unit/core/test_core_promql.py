"""The ``promql:`` objective: one expression against a threshold at the window's end."""

from __future__ import annotations

import math

from core_synth import context, timeline

from harness.analyzers.promql import PromqlParams, run
from harness.metrics.fake import FakeMetricsSource

QUERY = "sum(increase(errors_total[$window])) / sum(increase(requests_total[$window]))"
RATIO = PromqlParams(QUERY, "<=", 0.01, "ratio")
SENT = "sum(increase(errors_total[60000ms])) / sum(increase(requests_total[60000ms]))"


def measure(values, params=RATIO, scrape=1.0):
    tl = timeline()
    fake = FakeMetricsSource(scrape_interval=scrape)
    for index, value in enumerate(values):
        fake.put(SENT, {"job": f"j{index}"}, [(tl.fault.end, value)])
    return run(context(fake, "fault", tl, scrape=scrape), params)


def test_window_is_substituted_and_a_good_value_passes():
    finding = measure([0.001])
    assert finding.status == "pass", finding.reason
    assert finding.evidence.queries == (SENT,)
    assert finding.measured == 0.001
    assert finding.threshold == "<= 0.01 ratio"


def test_a_bad_series_fails_and_the_worst_is_measured():
    finding = measure([0.001, 0.2])
    assert finding.status == "fail"
    assert finding.measured == 0.2
    assert "j1" in finding.reason


def test_greater_than_takes_the_minimum_as_worst():
    finding = measure([5.0, 2.0], PromqlParams(QUERY, ">", 3.0))
    assert finding.status == "fail"
    assert finding.measured == 2.0


def test_nan_is_an_error():
    finding = measure([math.nan])
    assert finding.status == "error"


def test_no_data_is_an_error():
    finding = measure([])
    assert finding.status == "error"
    assert "no data" in finding.reason
    assert finding.measured is None


def test_within_rounding_of_the_threshold_is_an_error():
    finding = measure([0.0095], PromqlParams(QUERY, "<=", 0.01, rounding=0.001))
    assert finding.status == "error"


def test_scrape_coarser_than_required_is_an_error():
    finding = measure([0.001], PromqlParams(QUERY, "<=", 0.01, max_scrape_interval=0.5))
    assert finding.status == "error"
    assert "coarser" in finding.reason
