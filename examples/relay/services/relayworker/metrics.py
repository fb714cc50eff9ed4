"""The worker's Prometheus series, under the names the harness's analyzers read by default.

Rule 7.1's names (process_*, http_requests_total, http_request_duration_seconds, agent_tasks_*), the
dependency calls and fallbacks (circuit_breaker, no_cascade's demand), and the breaker's gauges, read from
the breaker at each scrape so they cannot drift from the library's state.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from .breaker import STATE_VALUES, WatchedBreaker

# Edges at the 1 s (health) and 5 s (API) thresholds of rule 8.1, so a percentile can be decided.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 30.0)
OUTCOMES = ("success", "failure", "short_circuited")


class BreakerCollector(Collector):
    def __init__(self, breaker: WatchedBreaker) -> None:
        self.breaker = breaker

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        b, labels = self.breaker, [self.breaker.dependency]

        def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, text, labels=["dependency"])
            family.add_metric(labels, value)
            return family

        yield gauge("circuit_breaker_state", "0 closed, 1 open, 2 half_open", STATE_VALUES[b.state])
        yield gauge("circuit_breaker_consecutive_failures", "current run of failures", b.consecutive_failures)
        yield gauge(
            "circuit_breaker_last_open_failures", "failures counted when it last opened", b.last_open_failures
        )
        yield gauge(
            "circuit_breaker_last_opened_timestamp_seconds", "last opening, 0 never", b.last_opened_at
        )
        yield gauge(
            "circuit_breaker_last_half_open_timestamp_seconds", "last half-open, 0 never", b.last_half_open_at
        )
        opened = CounterMetricFamily("circuit_breaker_opened", "transitions to open", labels=["dependency"])
        opened.add_metric(labels, b.opened_total)
        yield opened


class WorkerMetrics:
    def __init__(self, breaker: WatchedBreaker) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.registry.register(BreakerCollector(breaker))
        r, dep = self.registry, breaker.dependency
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "path", "status"], registry=r
        )
        self.duration = Histogram(
            "http_request_duration_seconds", "HTTP latency", ["method", "path"], buckets=BUCKETS, registry=r
        )
        self.completed = Counter("agent_tasks_completed_total", "jobs answered", registry=r)
        self.failed = Counter("agent_tasks_failed_total", "jobs that failed", registry=r)
        calls = Counter(
            "dependency_requests_total", "dependency calls", ["dependency", "outcome"], registry=r
        )
        self.calls = {outcome: calls.labels(dep, outcome) for outcome in OUTCOMES}  # all at 0 from the start
        self.fallbacks = Counter(
            "fallback_responses_total", "answers served by a fallback", ["dependency"], registry=r
        ).labels(dep)
        self.call_duration = Histogram(
            "dependency_request_duration_seconds",
            "calls that reached it",
            ["dependency"],
            buckets=BUCKETS,
            registry=r,
        ).labels(dep)
