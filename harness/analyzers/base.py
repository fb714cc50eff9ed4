"""What every analyzer gets and gives.

An analyzer is a pure function ``run(context, params) -> Finding`` over a ``MetricsSource``, plus a
frozen dataclass of parameters that slas.yaml fills in (``harness.catalogue.reader.read_dataclass``
reads it from its type hints) and a one-line description of its threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Generic, TypeVar

from harness.bringup import BringUp
from harness.logs import LogSource
from harness.metrics.port import Labels, MetricsSource, Series
from harness.ports import PortSource
from harness.verdict import Check, Evidence, Figure, Finding, Measured, combine
from harness.windows import ScenarioTimeline, Window

P = TypeVar("P")

MAX_POINTS = 10_000
"""Prometheus refuses range queries of more than 11,000 points per series."""

DependencyGraph = Mapping[str, frozenset[str]]
"""service -> the services it depends on directly (compose ``depends_on``)."""


@dataclass(frozen=True, slots=True)
class AnalysisContext:
    """Everything an analyzer may read: the source, the objective's window, the scenario's timeline."""

    source: MetricsSource
    window: Window
    timeline: ScenarioTimeline
    scrape_interval: float | None
    min_scrapes: int = 4
    faulted: str | None = None
    graph: DependencyGraph = field(default_factory=lambda: MappingProxyType({}))
    service_label: str = "job"
    """The label that names a service in Prometheus (slas.yaml ``defaults.service_label``)."""
    bring_up: BringUp = ()
    """How the run brought the stack up, phase by phase (empty: not recorded)."""
    logs: LogSource | None = None
    """The services' container logs (None: none to read, as in a re-judge after the run)."""
    ports: PortSource | None = None
    """The host ports the stack's containers publish, read when asked (None: no engine, as in a re-judge)."""

    def group_by(self, by: tuple[str, ...] | None, *more: str) -> tuple[str, ...]:
        """An analyzer's ``by`` parameter, or by default the service label and ``more``."""
        return by if by is not None else (self.service_label, *more)

    @property
    def step(self) -> float:
        """Range-query step over the timeline: the scrape interval (a finer step only repeats samples),
        coarsened only if the run is so long that Prometheus would refuse the points."""
        return max(self.scrape_interval or 1.0, self.timeline.whole.duration / MAX_POINTS)


@dataclass(frozen=True, slots=True)
class AnalyzerSpec(Generic[P]):
    """A registered analyzer: its slas.yaml name, parameter type, function and threshold text."""

    name: str
    params: type[P]
    run: Callable[[AnalysisContext, P], Finding]
    describe: Callable[[P], str]
    needs_fault: bool = False


class Recorder:
    """Reads through a source and keeps every query and answer, which become the verdict's evidence.
    Asking the same thing twice reads once."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source
        self._answers: dict[tuple[str, str, float, float, float], tuple[Series, ...]] = {}
        self.queries: list[str] = []
        self.samples: list[Series] = []

    def instant(self, query: str, at: float) -> tuple[Series, ...]:
        key = ("instant", query, at, at, 0.0)
        if key not in self._answers:
            self._keep(key, self._source.instant(query, at))
        return self._answers[key]

    def range(self, query: str, window: Window, step: float) -> tuple[Series, ...]:
        key = ("range", query, window.start, window.end, step)
        if key not in self._answers:
            self._keep(key, self._source.range(query, window, step))
        return self._answers[key]

    def _keep(self, key: tuple[str, str, float, float, float], answer: tuple[Series, ...]) -> None:
        self._answers[key] = answer
        if key[1] not in self.queries:
            self.queries.append(key[1])
        self.samples.extend(answer)

    def evidence(
        self,
        context: AnalysisContext,
        figures: list[Figure],
        plot: tuple[Series, ...] = (),
        limit: float | None = None,
        states: tuple[str, ...] = (),
    ) -> Evidence:
        return Evidence(
            queries=tuple(self.queries),
            window=context.window,
            phases=context.timeline.phases,
            figures=tuple(figures),
            samples=tuple(self.samples),
            plot=plot,
            limit=limit,
            states=states,
        )


def selector(*matchers: str) -> str:
    """Join label matchers, skipping empty ones: ``selector('a="1"', '')`` -> ``a="1"``."""
    return ", ".join(m.strip() for m in matchers if m and m.strip())


def key_text(labels: Labels) -> str:
    """A group's label values, e.g. ``agent-indexer/10.0.0.7:10201``."""
    return "/".join(v for _, v in labels) or "all"


def conclude(
    checks: list[Check], threshold: str, evidence: Evidence, empty_reason: str, measured: Measured = None
) -> Finding:
    """A finding from sub-checks: the combined status, the reason naming the checks that decided it,
    and as the measured value ``measured`` or else every figure."""
    status = combine(c.status for c in checks)
    deciding = [c for c in checks if c.status == status]
    reason = "; ".join(f"{c.name}: {c.detail}" for c in deciding) if checks else empty_reason
    full = replace(evidence, checks=tuple(checks))
    return Finding(
        status, measured if measured is not None else evidence.figures or None, threshold, reason, full
    )
