"""Prometheus metrics of the model server (names fixed by the stack contract)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .config import Config
from .pool import ModelPool
from .scheduler import Scheduler

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60)


class _StateCollector:
    """Reads scheduler and pool state at scrape time, so the numbers can never drift from the truth."""

    def __init__(self, config: Config, scheduler: Scheduler, pool: ModelPool) -> None:
        self._config = config
        self._scheduler = scheduler
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        s, p = self._scheduler, self._pool
        gauges = (
            ("ollama_requests_inflight", "Generate requests holding a parallel slot", s.running),
            ("ollama_queue_depth", "Generate requests waiting for a parallel slot", s.waiting),
            ("ollama_num_parallel", "OLLAMA_NUM_PARALLEL", s.num_parallel),
            ("ollama_max_queue", "OLLAMA_MAX_QUEUE", s.max_queue),
            ("ollama_cpu_threads", "Threads burning CPU for tokens", self._config.burner_threads),
            ("ollama_max_loaded_models", "OLLAMA_MAX_LOADED_MODELS", p.max_loaded),
            ("ollama_model_waiting", "Requests waiting for a model to be loaded or freed", p.waiting),
        )
        for name, doc, value in gauges:
            yield GaugeMetricFamily(name, doc, value=value)
        loaded = p.loaded()
        yield GaugeMetricFamily("ollama_loaded_models", "Models resident in memory", value=len(loaded))
        bytes_family = GaugeMetricFamily(
            "ollama_loaded_model_bytes",
            "Bytes held by resident models",
            value=sum(m.model.size for m in loaded),
        )
        yield bytes_family
        counters = (
            ("ollama_rejected", "Requests refused with 503 because the queue was full", s.rejected),
            ("ollama_model_loads", "Models loaded", p.loads),
            ("ollama_model_evictions", "Idle models unloaded to make room (LRU)", p.evictions),
            ("ollama_model_expirations", "Idle models unloaded after keep-alive", p.expirations),
        )
        for name, doc, value in counters:
            yield CounterMetricFamily(name, doc, value=value)


class Metrics:
    def __init__(self, config: Config, scheduler: Scheduler, pool: ModelPool) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests", "HTTP requests", ["method", "path", "status"], registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration (streams: until the last chunk)",
            ["method", "path"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter("ollama_tokens_generated", "Tokens generated", registry=self.registry)
        self.queue_wait = Histogram(
            "ollama_queue_wait_seconds",
            "Time a generate request waited for a parallel slot",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(config, scheduler, pool))
