"""``promql:`` aggregations over the window (avg, min, max, count, rate, any percentile), the ``!=`` and
``between`` comparators, and the ``p(N)`` percentile spelling in the analyzers that take a percentile."""

from __future__ import annotations

import math

import pytest
from core_synth import context, put_histogram, timeline

from harness.analyzers.percentile import quantile_of
from harness.analyzers.promql import PromqlParams, quantile_over_time, run
from harness.analyzers.response_time import ResponseTimeParams
from harness.analyzers.response_time import run as response_time
from harness.catalogue import parse_text
from harness.cli import main
from harness.metrics.fake import FakeMetricsSource

TL = timeline()
QUERY = "sum(rate(errors_total[1m]))"
# One point per second over the 60 s fault window, as a range query at the scrape interval answers.
VALUES = [float(i % 10) for i in range(60)]  # 0..9 six times: avg 4.5, min 0, max 9


def measure(series: dict[str, list[float]], params: PromqlParams, scrape: float = 1.0):
    fake = FakeMetricsSource(scrape_interval=scrape)
    for job, values in series.items():
        fake.put(QUERY, {"job": job}, [(TL.fault.start + i, v) for i, v in enumerate(values)])
    return run(context(fake, "fault", TL, scrape=scrape), params)


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("avg", 4.5),
        ("min", 0.0),
        ("max", 9.0),
        ("count", 60.0),  # points at which the query answered
        ("p50", 4.5),
        ("p(90)", 9.0 * 0.1 + 8.0 * 0.9),  # rank 0.9 * 59 = 53.1 among the sorted points
        ("p(42)", 4.0),
    ],
)
def test_each_aggregation_over_the_window(aggregation, expected):
    finding = measure({"a": VALUES}, PromqlParams(QUERY, "<=", 100, aggregation=aggregation))
    assert finding.status == "pass", finding.reason
    assert finding.measured == pytest.approx(expected)
    assert finding.threshold == f"{aggregation} over the window <= 100"
    assert finding.evidence.plot  # the points it aggregated are drawn


def test_the_aggregation_is_per_series_and_the_worst_series_decides():
    finding = measure({"a": [1.0] * 60, "b": [3.0] * 60}, PromqlParams(QUERY, "<", 2, aggregation="avg"))
    assert finding.status == "fail"
    assert finding.measured == 3.0
    assert "b: 3 breaks avg over the window < 2" in finding.reason


def test_without_an_aggregation_the_query_is_read_at_the_window_end_only():
    fake = FakeMetricsSource()
    fake.put(QUERY, {}, [(TL.fault.end, 7.0)])
    finding = run(context(fake, "fault", TL), PromqlParams(QUERY, "<", 10))
    assert (finding.status, finding.measured) == ("pass", 7.0)


def test_rate_counts_a_drop_as_a_counter_reset():
    # 10 -> 20 (+10), reset to 5 (+5), -> 15 (+10): 25 over 30 s.
    fake = FakeMetricsSource()
    fake.put(QUERY, {}, [(TL.fault.start + t, v) for t, v in [(0, 10), (10, 20), (20, 5), (30, 15)]])
    finding = run(context(fake, "fault", TL), PromqlParams(QUERY, "<", 1, aggregation="rate"))
    assert finding.measured == pytest.approx(25 / 30)
    fake = FakeMetricsSource()
    fake.put(QUERY, {}, [(TL.fault.start, 10.0)])
    finding = run(context(fake, "fault", TL), PromqlParams(QUERY, "<", 1, aggregation="rate"))
    assert finding.status == "error" and "two points" in finding.reason


def test_a_nan_point_or_no_series_is_an_error():
    finding = measure({"a": [1.0, math.nan, 1.0]}, PromqlParams(QUERY, "<", 2, aggregation="max"))
    assert finding.status == "error" and "nan" in finding.reason
    finding = measure({}, PromqlParams(QUERY, "<", 2, aggregation="max"))
    assert finding.status == "error" and "no data" in finding.reason


def test_quantile_over_time_is_prometheus_arithmetic():
    values = [4.0, 1.0, 3.0, 2.0]
    assert [quantile_over_time(q, values) for q in (0, 0.5, 0.9, 1)] == pytest.approx([1, 2.5, 3.7, 4])
    assert quantile_over_time(0.3, [5.0]) == 5.0


@pytest.mark.parametrize(
    ("comparator", "threshold", "values", "status"),
    [
        ("between", (0.1, 0.5), [0.1, 0.3, 0.5], "pass"),  # both bounds included
        ("between", (0.1, 0.5), [0.3, 0.6], "fail"),
        ("between", (0.1, 0.5), [0.505], "error"),  # within the 0.01 rounding of the bound
        ("!=", 0.0, [1.0, 2.0], "pass"),
        ("!=", 0.0, [1.0, 0.0], "fail"),
        ("!=", 0.0, [0.005], "error"),
    ],
)
def test_between_and_not_equal(comparator, threshold, values, status):
    fake = FakeMetricsSource()
    for index, value in enumerate(values):
        fake.put(QUERY, {"job": f"j{index}"}, [(TL.fault.end, value)])
    rounding = 0.01 if status == "error" else 0.0
    finding = run(context(fake, "fault", TL), PromqlParams(QUERY, comparator, threshold, rounding=rounding))
    assert finding.status == status, finding.reason


def test_the_measured_value_of_between_and_not_equal_is_the_furthest_and_the_nearest():
    between = PromqlParams(QUERY, "between", (0.1, 0.5))
    assert measure_at_end([0.3, 0.45, 0.2], between).measured == 0.45
    assert measure_at_end([3.0, 0.5, 2.0], PromqlParams(QUERY, "!=", 0.0)).measured == 0.5


def measure_at_end(values, params):
    fake = FakeMetricsSource()
    for index, value in enumerate(values):
        fake.put(QUERY, {"job": f"j{index}"}, [(TL.fault.end, value)])
    return run(context(fake, "fault", TL), params)


def test_slas_yaml_reads_aggregations_and_ranges():
    cat = parse_text(
        HEAD + PROMQL.format(extra="comparator: between, threshold: [0.1, 0.5], aggregation: p(99.9)")
    )
    params = cat.objectives[0].measurement.params
    assert (params.comparator, params.threshold, params.aggregation) == ("between", (0.1, 0.5), "p(99.9)")
    assert cat.objectives[0].measurement.threshold == "p(99.9) over the window between 0.1 and 0.5"


HEAD = """\
version: 1
scenarios:
  baseline: {}
objectives:
"""
PROMQL = """\
  - id: q
    rule: "8.1"
    scenarios: all
    window: steady
    promql: {{query: up, {extra}}}
"""
RESPONSE_TIME = """\
  - id: q
    rule: "8.1"
    scenarios: all
    window: steady
    analyzer: {{name: response_time, params: {{threshold: 1s, {extra}}}}}
"""


@pytest.mark.parametrize(
    ("document", "extra", "message"),
    [
        (
            PROMQL,
            "comparator: between, threshold: 0.5",
            "promql.threshold: between takes [low, high] with low below high",
        ),
        (PROMQL, "comparator: between, threshold: [0.5, 0.1]", "promql.threshold: between takes [low, high]"),
        (PROMQL, 'comparator: "<", threshold: [0.1, 0.5]', "promql.threshold: < takes one number"),
        (
            PROMQL,
            'comparator: "<", threshold: [0.1, "x"]',
            "promql.threshold: expected a number or a list of numbers",
        ),
        (
            PROMQL,
            'comparator: "=~", threshold: 1',
            "promql.comparator: expected one of <, <=, >, >=, ==, !=, between",
        ),
        (
            PROMQL,
            'comparator: "<", threshold: 1, aggregation: median',
            "promql.aggregation: expected an aggregation over the window",
        ),
        (
            PROMQL,
            'comparator: "<", threshold: 1, aggregation: p(101)',
            "promql.aggregation: expected an aggregation",
        ),
        (RESPONSE_TIME, "percentile: p(101)", "params.percentile: expected a percentile: p50"),
        (RESPONSE_TIME, "percentile: p(12.34567)", "params.percentile: expected a percentile"),
        (RESPONSE_TIME, "percentile: p98", "params.percentile: expected a percentile"),
    ],
)
def test_bad_comparators_thresholds_and_spellings_are_one_line_exit_2(
    document, extra, message, tmp_path, capsys
):
    slas = tmp_path / "slas.yaml"
    slas.write_text(HEAD + document.format(extra=extra))
    assert main(["slas", "--slas", str(slas)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"harness slas: {slas}:9: objectives[q].") and message in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("spelling", "q"),
    [
        ("p99", 0.99),
        ("max", 1.0),
        ("p(99.9)", 0.999),
        ("p(42)", 0.42),
        ("p(100)", 1.0),
        ("p(0)", 0.0),
        ("p(99.9999)", 0.999999),
    ],
)
def test_percentile_spellings(spelling, q):
    assert quantile_of(spelling) == q
    cat = parse_text(HEAD + RESPONSE_TIME.format(extra=f"percentile: {spelling!r}"))
    assert cat.objectives[0].measurement.params.percentile == spelling


def judge_latency(percentile: str):
    fake = FakeMetricsSource()
    # 1000 observations, 2 of them slow: p(99.9) lies in the slow bucket, p99 does not.
    put_histogram(fake, TL.fault, {(("job", "api"),): [0.02] * 998 + [3.0] * 2}, percentile)
    return response_time(context(fake, "fault", TL), ResponseTimeParams(threshold=1.0, percentile=percentile))


def test_response_time_judges_p_of_n_with_prometheus_bucket_quantile():
    slow, fast = judge_latency("p(99.9)"), judge_latency("p99")
    assert slow.status == "fail" and "p(99.9) = " in slow.reason, slow.reason
    assert any("histogram_quantile(0.999," in q for q in slow.evidence.queries)
    assert fast.status == "pass", fast.reason
