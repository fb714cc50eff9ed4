"""Prometheus metrics of the agent; names are the stack contract (stack-contract.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .breaker import Snapshot
from .hibernation import Hibernation
from .modelpool import PoolStats

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60)
OUTCOMES = ("success", "failure", "short_circuited")
RETRY_BUCKETS = (0.25, 0.5, 0.9, 1.5, 1.9, 3, 3.9, 6, 10)
"""Edges that put no wait, and rule 10.2's 1 s, 2 s and 4 s (each as slept, a little longer), in buckets of
their own: (0.9, 1.5], (1.9, 3], (3.9, 6]."""
RETRY_LABELS = ("1", "2", "3", "4+")
"""The retry label: a retry's number in its series, the fourth and later ones together (bounded)."""
CACHE_RESULTS = ("hit", "miss", "error", "disabled")
"""How a task's cache lookup went: served from the cache; looked up and computed; the cache unavailable
(failed or breaker open), computed and served uncached; not looked up (CACHE_ENABLED=false)."""


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        ProcessCollector(registry=registry)
        self.http_requests = Counter(
            "http_requests", "HTTP requests served", ["method", "path", "status"], registry=registry
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration",
            ["method", "path"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.tasks_completed = Counter("agent_tasks_completed", "Tasks completed", registry=registry)
        self.tasks_failed = Counter("agent_tasks_failed", "Tasks failed", registry=registry)
        self.dependency_requests = Counter(
            "dependency_requests",
            "Calls to dependencies by outcome",
            ["dependency", "outcome"],
            registry=registry,
        )
        self.dependency_duration = Histogram(
            "dependency_request_duration_seconds",
            "Duration of calls to dependencies",
            ["dependency"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.fallbacks = Counter(
            "fallback_responses", "Responses served by a fallback", ["dependency"], registry=registry
        )
        # rule 8.3 read from the agent: Redis's own keyspace_hits are the server's, not per service,
        # and the reference stack scrapes no Redis exporter
        self.cache_requests = Counter(
            "agent_cache_requests", "Cache lookups of tasks by result", ["result"], registry=registry
        )
        self.cache_task_duration = Histogram(
            "agent_cache_task_duration_seconds",
            "The agent's own work on a task (lookup, the model on a miss, cache write) by the lookup's result",
            ["result"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.inflight = Gauge("agent_inflight_requests", "API requests being processed", registry=registry)
        self.concurrency_limit = Gauge(
            "agent_concurrency_limit", "MAX_CONCURRENT (0 = unlimited)", registry=registry
        )
        self.waiting = Gauge(
            "agent_concurrency_waiting", "API requests waiting for a concurrency slot", registry=registry
        )
        self.wakeup = Histogram(
            "agent_wakeup_duration_seconds", "Wake-up from hibernation", buckets=BUCKETS, registry=registry
        )
        self.retry_interval = Histogram(
            "agent_retry_interval_seconds",
            "Background work (rule 10.2): from a failed attempt to the retry after it, measured, by "
            "operation and the retry's number in its series (4+: the fourth and later)",
            ["operation", "retry"],
            buckets=RETRY_BUCKETS,
            registry=registry,
        )
        self.state_saves = Counter("agent_state_saves", "State saves written", registry=registry)
        self.state_restored = Gauge(
            "agent_state_restored", "1 when state was restored on start", registry=registry
        )
        self.state_restored_saved_at = Gauge(
            "agent_state_restored_saved_timestamp_seconds",
            "Unix time the restored state was saved (0: nothing restored)",
            registry=registry,
        )

    def declare_dependency(self, name: str) -> None:
        """Create the zero series so rates and absences are visible before the first call."""
        for outcome in OUTCOMES:
            self.dependency_requests.labels(name, outcome)
        self.dependency_duration.labels(name)
        self.fallbacks.labels(name)

    def declare_cache(self) -> None:
        """The zero series of every result, so a hit ratio and its absence are visible from the start."""
        for result in CACHE_RESULTS:
            self.cache_requests.labels(result)
            self.cache_task_duration.labels(result)

    def declare_retries(self, operation: str) -> None:
        """The zero series of an operation's retries, so the first retry counts in an increase."""
        for retry in RETRY_LABELS:
            self.retry_interval.labels(operation, retry)

    def observe_retry(self, operation: str, retry: int, seconds: float) -> None:
        label = RETRY_LABELS[min(max(retry, 1), len(RETRY_LABELS)) - 1]
        self.retry_interval.labels(operation, label).observe(seconds)

    def observe_call(self, dependency: str, outcome: str, seconds: float | None) -> None:
        self.dependency_requests.labels(dependency, outcome).inc()
        if seconds is not None:
            self.dependency_duration.labels(dependency).observe(seconds)

    def declare_route(self, method: str, path: str) -> None:
        self.http_duration.labels(method, path)


class LiveCollector(Collector):
    """Breaker, pool and hibernation values read at scrape time from the objects that own them."""

    def __init__(
        self,
        breakers: Callable[[], Iterable[Snapshot]],
        pool: Callable[[], PoolStats],
        hibernation: Hibernation,
    ) -> None:
        self._breakers = breakers
        self._pool = pool
        self._hibernation = hibernation

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        label = ["dependency"]
        state = GaugeMetricFamily("circuit_breaker_state", "0 closed, 1 open, 2 half_open", labels=label)
        consecutive = GaugeMetricFamily(
            "circuit_breaker_consecutive_failures", "Current consecutive failures", labels=label
        )
        opened = CounterMetricFamily("circuit_breaker_opened", "Transitions to open", labels=label)
        last_failures = GaugeMetricFamily(
            "circuit_breaker_last_open_failures",
            "Consecutive failures counted when the breaker last opened from closed",
            labels=label,
        )
        opened_at = GaugeMetricFamily(
            "circuit_breaker_last_opened_timestamp_seconds",
            "Unix time of the last transition to open (0 = never)",
            labels=label,
        )
        half_open_at = GaugeMetricFamily(
            "circuit_breaker_last_half_open_timestamp_seconds",
            "Unix time of the last transition to half_open (0 = never)",
            labels=label,
        )
        for snap in self._breakers():
            key = [snap.name]
            state.add_metric(key, int(snap.state))
            consecutive.add_metric(key, snap.consecutive_failures)
            opened.add_metric(key, snap.opened_total)
            last_failures.add_metric(key, snap.last_open_failures)
            opened_at.add_metric(key, snap.last_opened_at or 0.0)
            half_open_at.add_metric(key, snap.last_half_open_at or 0.0)
        yield from (state, consecutive, opened, last_failures, opened_at, half_open_at)

        stats = self._pool()
        yield GaugeMetricFamily(
            "agent_model_pool_bytes", "Bytes held by loaded models", value=stats.bytes_used
        )
        yield GaugeMetricFamily(
            "agent_model_pool_limit_bytes", "MODEL_POOL_BYTES budget", value=stats.limit_bytes
        )
        yield GaugeMetricFamily("agent_model_pool_models", "Models loaded", value=stats.models)
        yield CounterMetricFamily("agent_model_pool_loads", "Model loads", value=stats.loads_total)
        yield CounterMetricFamily(
            "agent_model_pool_evictions", "Models evicted (LRU)", value=stats.evictions_total
        )
        yield GaugeMetricFamily(
            "agent_hibernating", "1 while hibernating", value=int(self._hibernation.hibernating)
        )
        yield CounterMetricFamily(
            "agent_hibernations", "Times the agent hibernated", value=self._hibernation.hibernations_total
        )
