"""The metrics port: what an analyzer may ask of a time-series store, and the typed answers.

Analyzers see only ``MetricsSource``; ``PrometheusSource`` is the real adapter and
``FakeMetricsSource`` the in-package fake the unit tests use. A failed read raises
``MeasurementError``; an empty answer is an empty tuple, which analyzers turn into an ``error``
verdict (never a pass).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from harness.windows import Window

Labels = tuple[tuple[str, str], ...]
"""A series' label set, sorted by name so equal sets compare equal."""


def labels_of(mapping: Mapping[str, str] | Iterable[tuple[str, str]]) -> Labels:
    pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


@dataclass(frozen=True, slots=True)
class Sample:
    """One value at one instant (unix seconds)."""

    t: float
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """A labelled sequence of samples in time order (an instant answer has exactly one)."""

    labels: Labels
    samples: tuple[Sample, ...]

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)

    def key(self, names: Iterable[str]) -> Labels:
        """The labels named, in the order named: the identity of a series across queries."""
        present = dict(self.labels)
        return tuple((n, present[n]) for n in names if n in present)

    def finite(self) -> tuple[Sample, ...]:
        return tuple(s for s in self.samples if math.isfinite(s.value))

    def within(self, window: Window) -> tuple[Sample, ...]:
        """Samples inside ``[start, end]``: the end is included, as a Prometheus range query does."""
        return tuple(s for s in self.samples if window.start <= s.t <= window.end)

    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None


class MetricsSource(Protocol):
    """A read-only PromQL store."""

    def instant(self, query: str, at: float) -> tuple[Series, ...]:
        """Evaluate ``query`` at one instant; each result series carries exactly one sample."""
        ...

    def range(self, query: str, window: Window, step: float) -> tuple[Series, ...]:
        """Evaluate ``query`` every ``step`` seconds over the window's closed bounds."""
        ...

    def scrape_interval(self, job: str | None = None) -> float | None:
        """The coarsest scrape interval in seconds among the targets (of ``job``), None if unknown."""
        ...
