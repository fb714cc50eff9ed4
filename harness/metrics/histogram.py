"""Percentiles from Prometheus histograms: the PromQL, and the same arithmetic in Python.

The real source computes ``histogram_quantile(q, sum by (le) (increase(m_bucket[W])))`` in PromQL. The
harness also fetches the bucket increases themselves and repeats the computation here, exactly as
Prometheus 2.x does it (promql/quantile.go: ``bucketQuantile``), for two reasons: the result can be
checked, and the bucket that holds the estimate is known, which the resolution guard needs (an
estimate inside a bucket is linear interpolation, so the true value is only known to lie in that
bucket).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from harness.metrics.port import Series

PERCENTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999, "max": 1.0}


@dataclass(frozen=True, slots=True)
class Bucket:
    """A cumulative histogram bucket: ``count`` observations were ``<= upper``."""

    upper: float
    count: float


@dataclass(frozen=True, slots=True)
class QuantileEstimate:
    """A quantile estimate and the bucket ``(lower, upper]`` the true quantile lies in."""

    q: float
    value: float
    lower: float
    upper: float
    observations: float


def buckets_from_series(series: Iterable[Series]) -> tuple[Bucket, ...]:
    """Buckets from an instant answer labelled by ``le``, coalescing equal bounds (as Prometheus does)."""
    totals: dict[float, float] = {}
    for item in series:
        le = item.label("le")
        sample = item.last()
        if le is None or sample is None:
            continue
        upper = float(le)
        totals[upper] = totals.get(upper, 0.0) + sample.value
    return tuple(Bucket(upper, count) for upper, count in sorted(totals.items()))


def _monotonic(buckets: tuple[Bucket, ...]) -> tuple[Bucket, ...]:
    # increase() of separately scraped bucket counters can dip by a little; Prometheus evens it out.
    result, running = [], -math.inf
    for bucket in buckets:
        running = max(running, bucket.count)
        result.append(Bucket(bucket.upper, running))
    return tuple(result)


def estimate_quantile(q: float, buckets: Iterable[Bucket]) -> QuantileEstimate | None:
    """Prometheus' ``histogram_quantile`` with the bucket it interpolated in; None where PromQL gives NaN.

    NaN cases: no ``+Inf`` bucket, fewer than two buckets, or no observations at all.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be within [0, 1], got {q}")
    ordered = tuple(sorted(buckets, key=lambda b: b.upper))
    merged: list[Bucket] = []
    for bucket in ordered:
        if merged and merged[-1].upper == bucket.upper:
            merged[-1] = Bucket(bucket.upper, merged[-1].count + bucket.count)
        else:
            merged.append(bucket)
    if len(merged) < 2 or not math.isinf(merged[-1].upper):
        return None
    cumulative = _monotonic(tuple(merged))
    observations = cumulative[-1].count
    if observations <= 0:
        return None
    rank = q * observations
    b = next((i for i in range(len(cumulative) - 1) if cumulative[i].count >= rank), len(cumulative) - 1)
    if b == len(cumulative) - 1:
        top = cumulative[-2].upper
        return QuantileEstimate(q, top, top, math.inf, observations)
    if b == 0 and cumulative[0].upper <= 0:
        return QuantileEstimate(q, cumulative[0].upper, -math.inf, cumulative[0].upper, observations)
    start = cumulative[b - 1].upper if b > 0 else 0.0
    end = cumulative[b].upper
    below = cumulative[b - 1].count if b > 0 else 0.0
    in_bucket = cumulative[b].count - below
    if in_bucket <= 0:
        return None  # only q = 0 over an empty first bucket gets here; PromQL divides 0 by 0
    value = start + (end - start) * ((rank - below) / in_bucket)
    return QuantileEstimate(q, value, start, end, observations)


def bucket_increase_query(metric: str, matchers: str, window_range: str, by: Iterable[str] = ()) -> str:
    """PromQL for the bucket increases of ``metric`` over a range, summed over everything but ``le``."""
    grouping = ", ".join(["le", *by])
    return f"sum by ({grouping}) (increase({metric}_bucket{{{matchers}}}[{window_range}]))"


def quantile_query(q: float, metric: str, matchers: str, window_range: str, by: Iterable[str] = ()) -> str:
    return f"histogram_quantile({q:g}, {bucket_increase_query(metric, matchers, window_range, by)})"
