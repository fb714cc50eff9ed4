"""An in-memory ``MetricsSource`` for tests: synthetic series keyed by the exact query text.

An instant query answers, per stored series, its latest sample at or before the instant (within the
lookback, as Prometheus does); a range query answers the samples inside the window. A query nobody
stored answers nothing, exactly like a PromQL selector that matches no series. ``fail`` makes every
read raise ``MeasurementError`` (a Prometheus that went away mid-run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.errors import MeasurementError
from harness.metrics.port import Sample, Series, labels_of
from harness.windows import Window

LOOKBACK_S = 300.0


class FakeMetricsSource:
    """Synthetic series keyed by query; satisfies ``MetricsSource``."""

    def __init__(self, scrape_interval: float | None = 1.0) -> None:
        self._series: dict[str, list[Series]] = {}
        self._scrape_interval = scrape_interval
        self._failure: str | None = None
        self.queries: list[str] = []

    def put(self, query: str, labels: Mapping[str, str], samples: Iterable[tuple[float, float]]) -> None:
        """Store one series answering ``query``: (t, value) pairs, any order."""
        ordered = tuple(Sample(float(t), float(v)) for t, v in sorted(samples))
        self._series.setdefault(query, []).append(Series(labels_of(labels), ordered))

    def fail(self, reason: str) -> None:
        self._failure = reason

    def _check(self, query: str) -> None:
        self.queries.append(query)
        if self._failure is not None:
            raise MeasurementError(self._failure)

    def instant(self, query: str, at: float) -> tuple[Series, ...]:
        self._check(query)
        answer = []
        for series in self._series.get(query, ()):
            seen = [s for s in series.samples if at - LOOKBACK_S < s.t <= at]
            if seen:
                answer.append(Series(series.labels, (Sample(at, seen[-1].value),)))
        return tuple(answer)

    def range(self, query: str, window: Window, step: float) -> tuple[Series, ...]:
        self._check(query)
        answer = []
        for series in self._series.get(query, ()):
            inside = series.within(window)
            if inside:
                answer.append(Series(series.labels, inside))
        return tuple(answer)

    def scrape_interval(self, job: str | None = None) -> float | None:
        if self._failure is not None:
            raise MeasurementError(self._failure)
        return self._scrape_interval
