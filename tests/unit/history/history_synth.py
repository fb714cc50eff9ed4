"""Synthetic verdicts and nightly series for the history's unit tests."""

from __future__ import annotations

import random

from harness.catalogue.model import Measurement, Objective
from harness.history.spec import RegressionSpec
from harness.history.store import RunInfo, Value
from harness.verdict import Evidence, Figure, Status, Verdict

T0 = 1_700_000_000.0
DAY = 86_400.0
CV = 0.05
"""Night-to-night coefficient of variation of a latency figure: the README's benchmarks give none, so
the 5% the task assumes."""


def verdict(p99: float | None, status: Status = "pass", objective: str = "api-latency") -> Verdict:
    figures = () if p99 is None else (Figure("p99", p99, "s"), Figure("throughput_ratio", 1.0))
    return Verdict(
        objective, "8.1", "baseline", "whole", "gate", status, p99, "< 5 s", "why", Evidence(figures=figures)
    )


def objective(spec: RegressionSpec | None = None, object_id: str = "api-latency") -> Objective:
    measurement = Measurement("promql", None, "< 5 s")
    return Objective(object_id, "8.1", "", ("baseline",), "whole", measurement, "gate", regression=spec)


def values(series: list[float], status: str = "pass") -> list[Value]:
    return [
        Value(
            RunInfo(f"night{i:02d}", T0 + i * DAY), "api-latency", "baseline", "whole", "p99", x, "s", status
        )
        for i, x in enumerate(series)
    ]


def nights(rng: random.Random, count: int, step: float = 0.0, stepped: int = 0) -> list[float]:
    """``count`` nightly p99 values around 1 s with CV 5%; the last ``stepped`` of them ``step`` higher."""
    return [rng.gauss(1.0, CV) * (1 + step if i >= count - stepped else 1) for i in range(count)]
