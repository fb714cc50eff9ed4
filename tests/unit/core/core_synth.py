"""Synthetic data for the core's unit tests: histograms, a simulated circuit breaker, a timeline."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext
from harness.analyzers.circuit_breaker import CircuitBreakerParams, queries
from harness.analyzers.percentile import quantile_of
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.histogram import (
    Bucket,
    bucket_increase_query,
    estimate_quantile,
    quantile_query,
)
from harness.windows import PhaseMarks, ScenarioTimeline, Window

T0 = 1_700_000_000.0
BOUNDS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    1.5,
    2,
    2.5,
    3,
    4,
    5,
    7.5,
    10,
    15,
    30,
    60,
    math.inf,
)


def timeline(
    steady: float = 30, fault: float | None = 60, recovery: float = 45, start: float = T0
) -> ScenarioTimeline:
    if fault is None:
        return ScenarioTimeline.from_marks(PhaseMarks(start, start + steady))
    return ScenarioTimeline.from_marks(
        PhaseMarks(start, start + steady + fault + recovery, start + steady, start + steady + fault)
    )


def context(
    source: FakeMetricsSource,
    window: str = "fault",
    tl: ScenarioTimeline | None = None,
    scrape: float | None = 1.0,
    **kwargs: object,
) -> AnalysisContext:
    tl = tl or timeline()
    chosen = tl.window(window)  # type: ignore[arg-type]
    assert chosen is not None
    return AnalysisContext(source, chosen, tl, scrape, **kwargs)  # type: ignore[arg-type]


def cumulative(latencies: Sequence[float], bounds: Sequence[float] = BOUNDS) -> list[Bucket]:
    return [Bucket(b, float(sum(1 for x in latencies if x <= b))) for b in bounds]


def put_histogram(
    fake: FakeMetricsSource,
    window: Window,
    groups: Mapping[tuple[tuple[str, str], ...], Sequence[float]],
    percentile: str,
    metric: str = "http_request_duration_seconds",
    matchers: str = "",
    by: tuple[str, ...] = ("job",),
    promql_offset: float = 0.0,
) -> None:
    """Play Prometheus for one window: bucket increases per group, and histogram_quantile over them."""
    span = window.promql_range()
    q = quantile_of(percentile)
    for group, latencies in groups.items():
        labels = dict(group)
        buckets = cumulative(latencies)
        for bucket in buckets:
            le = "+Inf" if math.isinf(bucket.upper) else f"{bucket.upper:g}"
            fake.put(
                bucket_increase_query(metric, matchers, span, by),
                {**labels, "le": le},
                [(window.end, bucket.count)],
            )
        estimate = estimate_quantile(q, buckets)
        value = estimate.value + promql_offset if estimate else math.nan
        fake.put(quantile_query(q, metric, matchers, span, by), labels, [(window.end, value)])


def put_increases(
    fake: FakeMetricsSource, counter: str, label: str, window: Window, increases: Mapping[str, float]
) -> None:
    """Play Prometheus for ``sum by (<label>) (increase(<counter>[<window>]))`` at the window's end:
    one increase per value of ``label``. ``counter`` may carry matchers, ``x_total{a="b"}``."""
    query = f"sum by ({label}) (increase({counter}[{window.promql_range()}]))"
    for value, increase in increases.items():
        fake.put(query, {label: value}, [(window.end, increase)])


@dataclass
class BreakerAgent:
    """A simulated agent with one circuit breaker, calling a dependency ``rate`` times a second."""

    threshold: int = 5
    half_open_after: float = 30.0
    enabled: bool = True
    fallback: bool = True
    rate: int = 4
    reopen_failures: int = 1
    closes: bool = True
    hangs: bool = False

    def simulate(
        self, tl: ScenarioTimeline, down: tuple[float, float]
    ) -> dict[str, list[tuple[float, float]]]:
        state, consecutive, opened_at, half_open_at = 0, 0, 0.0, 0.0
        counters = {
            "opened_total": 0.0,
            "fallbacks": 0.0,
            "short_circuits": 0.0,
            "failures": 0.0,
            "calls": 0.0,
        }
        last_open_failures = 0.0
        out: dict[str, list[tuple[float, float]]] = {
            k: [] for k in ("state", "open_failures", "opened_at", "half_open_at", *counters)
        }
        start, end = tl.whole.start, tl.whole.end
        steps = int(end - start)
        for second in range(steps + 1):
            t0 = start + second
            # a scrape at t0 sees what happened before t0, then this second's calls are made
            out["state"].append((t0, float(state)))
            out["open_failures"].append((t0, last_open_failures))
            out["opened_at"].append((t0, opened_at))
            out["half_open_at"].append((t0, half_open_at))
            for name, value in counters.items():
                out[name].append((t0, value))
            for i in range(self.rate if second < steps else 0):
                t = t0 + i / max(self.rate, 1)
                failing = down[0] <= t < down[1]
                if state == 1 and t - opened_at >= self.half_open_after:
                    state, half_open_at = 2, opened_at + self.half_open_after
                if failing and self.hangs:
                    continue  # a call without a timeout to a frozen dependency never completes
                counters["calls"] += 1
                if state == 1:
                    counters["short_circuits"] += 1
                    counters["fallbacks"] += self.fallback
                    continue
                if not failing:
                    state = 0 if self.closes or state == 0 else state
                    consecutive = 0
                    continue
                counters["failures"] += 1
                counters["fallbacks"] += self.fallback
                consecutive += 1
                reopen = state == 2 and consecutive >= self.reopen_failures
                if self.enabled and (consecutive >= self.threshold or reopen):
                    state, opened_at = 1, t
                    last_open_failures = consecutive
                    counters["opened_total"] += 1
                    consecutive = 0
        return out


def put_breaker(
    fake: FakeMetricsSource,
    params: CircuitBreakerParams,
    series: dict[str, list[tuple[float, float]]],
    labels: Mapping[str, str] | None = None,
    omit: Sequence[str] = (),
) -> None:
    labels = labels or {"job": "agent-summarizer", "instance": "summarizer:10200"}
    for name, query in queries(params, ("job", "instance")).items():
        if name not in omit:
            fake.put(query, labels, series[name])


RawSeries = tuple[str, dict[str, str], list[tuple[float, float]]]
"""A raw metric as a service exports it: name, labels, samples."""

_BREAKER_METRICS = {
    "state": ("circuit_breaker_state", {}),
    "open_failures": ("circuit_breaker_last_open_failures", {}),
    "opened_total": ("circuit_breaker_opened_total", {}),
    "opened_at": ("circuit_breaker_last_opened_timestamp_seconds", {}),
    "half_open_at": ("circuit_breaker_last_half_open_timestamp_seconds", {}),
    "fallbacks": ("fallback_responses_total", {}),
    "short_circuits": ("dependency_requests_total", {"outcome": "short_circuited"}),
    "failures": ("dependency_requests_total", {"outcome": "failure"}),
}


def breaker_raw(
    series: dict[str, list[tuple[float, float]]], labels: Mapping[str, str], dependency: str
) -> list[RawSeries]:
    """The simulated breaker as the raw metrics an agent exports (what a real Prometheus would hold)."""
    out: list[RawSeries] = []
    for key, (name, extra) in _BREAKER_METRICS.items():
        out.append((name, {**labels, "dependency": dependency, **extra}, series[key]))
    successes = [
        (t, calls - fail - short)
        for (t, calls), (_, fail), (_, short) in zip(
            series["calls"], series["failures"], series["short_circuits"], strict=True
        )
    ]
    out.append(
        ("dependency_requests_total", {**labels, "dependency": dependency, "outcome": "success"}, successes)
    )
    return out


def histogram_raw(
    metric: str,
    labels: Mapping[str, str],
    observations: Sequence[tuple[float, float]],
    times: Sequence[float],
) -> list[RawSeries]:
    """Cumulative bucket counters sampled at ``times`` from (t, latency) observations."""
    ordered = sorted(observations)
    out: list[RawSeries] = []
    for bound in BOUNDS:
        le = "+Inf" if math.isinf(bound) else f"{bound:g}"
        samples = [(t, float(sum(1 for ot, x in ordered if ot < t and x <= bound))) for t in times]
        out.append((f"{metric}_bucket", {**labels, "le": le}, samples))
    return out


def openmetrics(series: Sequence[RawSeries]) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics`` (types left unknown:
    PromQL does not need them)."""
    families: dict[str, list[RawSeries]] = {}
    for item in series:
        families.setdefault(item[0], []).append(item)
    lines = []
    for name, members in families.items():
        lines.append(f"# TYPE {name} unknown")
        for _, labels, samples in members:
            text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            lines += [f"{name}{{{text}}} {value!r} {t:.3f}" for t, value in samples]
    return "\n".join([*lines, "# EOF", ""])


Gauge = Callable[[float], float]
"""A gauge's value as a function of the seconds since the window's start."""


def every_scrape(window: Window, value: float | Gauge, scrape: float = 1.0) -> list[tuple[float, float]]:
    """A series sampled every ``scrape`` seconds over the window, ends included: ``value`` a constant or a
    function of the offset into the window."""
    count = int(window.duration // scrape)
    at = value if callable(value) else lambda _offset: float(value)
    return [(window.start + i * scrape, at(i * scrape)) for i in range(count + 1)]


def counter(window: Window, events: Sequence[float], scrape: float = 1.0) -> list[tuple[float, float]]:
    """A counter sampled every scrape that counts one at each offset in ``events``."""
    return every_scrape(window, lambda offset: float(sum(1 for e in events if e <= offset)), scrape)


@dataclass
class PoolAgent:
    """A simulated LRU model pool (rule 4.1) asked for one model a second, as an agent exports it."""

    limit: float = 64 * 1024**2
    size: float = 24 * 1024**2
    evict: bool = True
    restarts_at: tuple[int, ...] = ()
    """Seconds into the window at which the process restarts: an empty pool, counters from zero."""

    def simulate(self, window: Window, asked: Sequence[str]) -> dict[str, list[tuple[float, float]]]:
        resident: list[str] = []
        loads = evictions = 0
        started = window.start - 100
        out: dict[str, list[tuple[float, float]]] = {
            k: [] for k in ("usage", "limit", "models", "loads", "evictions", "starts")
        }
        for second in range(int(window.duration) + 1):
            if second in self.restarts_at:
                resident, loads, evictions, started = [], 0, 0, window.start + second
            # a scrape at each second sees the pool before that second's request
            now = {"usage": len(resident) * self.size, "limit": self.limit, "models": len(resident)}
            for name, value in {**now, "loads": loads, "evictions": evictions, "starts": started}.items():
                out[name].append((window.start + second, float(value)))
            model = asked[second] if second < len(asked) else None
            if model is None or model in resident:
                resident = [m for m in resident if m != model] + ([model] if model else [])
                continue
            while self.evict and resident and (len(resident) + 1) * self.size > self.limit:
                resident.pop(0)
                evictions += 1
            resident.append(model)
            loads += 1
        return out
