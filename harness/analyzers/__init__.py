"""Analyzers: pure functions from a metrics source, a window and parameters to a ``Finding``.

``ANALYZERS`` maps the names slas.yaml may use under ``analyzer:``; ``PROMQL`` serves the ``promql:``
form of an objective. ``harness.analyzers.judge`` turns an objective into a ``Verdict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from harness.analyzers import (
    caching,
    circuit_breaker,
    concurrency_limit,
    cpu_affinity,
    gateway,
    graceful_shutdown,
    hibernation,
    load_balancing,
    memory_limits,
    memory_pools,
    message_queue,
    model_pool,
    no_cascade,
    ollama_limits,
    phased_deploy,
    promql,
    required_metrics,
    response_time,
    restart_limit,
    retry_backoff,
    structured_logs,
)
from harness.analyzers.base import AnalysisContext, AnalyzerSpec, DependencyGraph

ANALYZERS: Mapping[str, AnalyzerSpec[Any]] = MappingProxyType(
    {
        a.name: a
        for a in (
            response_time.ANALYZER,
            circuit_breaker.ANALYZER,
            no_cascade.ANALYZER,
            required_metrics.ANALYZER,
            memory_limits.ANALYZER,
            concurrency_limit.ANALYZER,
            ollama_limits.ANALYZER,
            model_pool.ANALYZER,
            memory_pools.ANALYZER,
            hibernation.ANALYZER,
            graceful_shutdown.ANALYZER,
            restart_limit.ANALYZER,
            cpu_affinity.ANALYZER,
            phased_deploy.ANALYZER,
            structured_logs.ANALYZER,
            caching.ANALYZER,
            gateway.ANALYZER,
            message_queue.ANALYZER,
            load_balancing.ANALYZER,
            retry_backoff.ANALYZER,
        )
    }
)
PROMQL: AnalyzerSpec[Any] = promql.ANALYZER

__all__ = ["ANALYZERS", "PROMQL", "AnalysisContext", "AnalyzerSpec", "DependencyGraph"]
