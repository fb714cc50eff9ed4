"""Rule 1.1, memory limits: every container has one, reserves 50-75 % of it, stays under it, is never
OOM-killed.

From the container exporter's cAdvisor series, per container (compose service and name), at every scrape
of the window:

1. a memory limit (``container_spec_memory_limit_bytes``; 0, or no series, is unlimited: fail);
2. a reservation (``container_spec_memory_reservation_limit_bytes``) of ``reservation_min`` to
   ``reservation_max`` of the limit;
3. the peak working set under the limit. The rule's buffer (limit >= peak x (1 + ``buffer``)) is the
   figure ``peak_ratio`` and becomes a check only with ``require_buffer``: it sizes a limit from usage
   over days, which one run does not show, so it belongs in its own ``warn`` objective;
4. no OOM event (``container_oom_events_total`` rising): fail, naming the container and when.

A container without a working set in the window (not running) is judged on its limits only.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import (
    COMPOSE_SERVICE,
    OOM_EVENTS,
    mib,
    oom_check,
    peak,
    range_data,
    vector,
    when,
)
from harness.metrics.counters import value_at
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Window

_HINT = "is the container exporter scraped, and does the selector match its containers?"


@dataclass(frozen=True, slots=True)
class MemoryLimitsParams:
    selector: str = ""
    container_label: str = COMPOSE_SERVICE
    reservation_min: float = 0.5
    reservation_max: float = 0.75
    buffer: float = 0.2
    require_buffer: bool = False
    working_set_metric: str = "container_memory_working_set_bytes"
    limit_metric: str = "container_spec_memory_limit_bytes"
    reservation_metric: str = "container_spec_memory_reservation_limit_bytes"
    oom_metric: str = OOM_EVENTS

    def __post_init__(self) -> None:
        if not 0.0 <= self.reservation_min <= self.reservation_max <= 1.0:
            raise ValueError("reservation_min: need 0 <= reservation_min <= reservation_max <= 1")
        if self.buffer < 0:
            raise ValueError("buffer: must not be negative")

    @property
    def by(self) -> tuple[str, ...]:
        """One group per container: its compose service and its name."""
        return tuple(dict.fromkeys((self.container_label, "name")))

    def queries(self) -> dict[str, str]:
        by, present = ", ".join(self.by), f'{self.container_label}!=""'
        metrics = {
            "limit": self.limit_metric,
            "working_set": self.working_set_metric,
            "reservation": self.reservation_metric,
            "oom": self.oom_metric,
        }
        return {name: f"max by ({by}) ({vector(m, present, self.selector)})" for name, m in metrics.items()}


def describe(p: MemoryLimitsParams) -> str:
    buffer = f" with a {p.buffer:.0%} buffer" if p.require_buffer else ""
    return (
        f"every container has a memory limit, reserves {p.reservation_min:.0%}-{p.reservation_max:.0%} of it, "
        f"its working set stays under it{buffer}, no OOM kill"
    )


@dataclass(frozen=True, slots=True)
class _Container:
    """One container's series over the window."""

    limit: tuple[Sample, ...]
    working_set: tuple[Sample, ...]
    reservation: tuple[Sample, ...]
    oom: tuple[Sample, ...]


def run(context: AnalysisContext, params: MemoryLimitsParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    queries = params.queries()
    data = range_data(recorder, context, threshold, queries, params.by, ("limit", "working_set"), _HINT)
    if isinstance(data, Finding):
        return data
    checks: list[Check] = []
    figures: list[Figure] = []
    for key in sorted(set(data["limit"]) | set(data["working_set"])):
        container = _Container(**{name: data[name].get(key, ()) for name in data})
        judge = _Judge(key_text(key), container, params, context.window)
        checks.extend(judge.checks())
        figures.extend(judge.figures)
    plot = recorder.range(queries["working_set"], context.window, context.step)
    return conclude(checks, threshold, recorder.evidence(context, figures, plot=plot), "no container")


class _Judge:
    """The checks of one container; collects its figures on the way."""

    def __init__(self, name: str, data: _Container, params: MemoryLimitsParams, window: Window) -> None:
        self.name, self.data, self.p, self.window = name, data, params, window
        self.figures: list[Figure] = []

    def check(self, what: str, passed: bool, detail: str) -> Check:
        return Check(f"{self.name} {what}", "pass" if passed else "fail", detail)

    def figure(self, what: str, value: float, unit: str = "") -> None:
        self.figures.append(Figure(f"{what}[{self.name}]", value, unit))

    def limit_at(self, t: float) -> float:
        found = value_at(self.data.limit, t)
        return found if found is not None else self.data.limit[0].value

    def checks(self) -> list[Check]:
        d = self.data
        unlimited = [s for s in d.limit if s.value <= 0]
        oom = oom_check(self.name, d.oom, self.window, self.p.oom_metric)
        if not d.limit or unlimited:
            since = (
                f" at {when(unlimited[0].t, self.window)}"
                if unlimited
                else f" ({self.p.limit_metric} absent)"
            )
            return [self.check("limit", False, f"no memory limit (0 = unlimited){since}"), oom]
        self.figure("memory_limit", min(s.value for s in d.limit), "bytes")
        limit = self.check("limit", True, f"memory limit {mib(min(s.value for s in d.limit))}")
        return [limit, self._reservation(), *self._working_set(), oom]

    def _reservation(self) -> Check:
        low, high = self.p.reservation_min, self.p.reservation_max
        if not self.data.reservation:
            return self.check(
                "reservation", False, f"no memory reservation ({self.p.reservation_metric} absent)"
            )
        ratios = [Sample(s.t, s.value / self.limit_at(s.t)) for s in self.data.reservation]
        worst = max(ratios, key=lambda r: abs(r.value - (low + high) / 2))
        self.figure("reservation_ratio", worst.value)
        detail = f"reservation {worst.value:.0%} of the limit (rule: {low:.0%}-{high:.0%})"
        if low <= worst.value <= high:
            return self.check("reservation", True, detail)
        return self.check("reservation", False, f"{detail} at {when(worst.t, self.window)}")

    def _working_set(self) -> list[Check]:
        if not self.data.working_set:
            return [Check(f"{self.name} working set", "skipped", "not running in the window: no working set")]
        top = peak(self.data.working_set)
        limit = self.limit_at(top.t)
        ratio = top.value / limit
        self.figure("peak_working_set", top.value, "bytes")
        self.figure("peak_ratio", ratio)
        detail = f"peak working set {mib(top.value)} = {ratio:.0%} of the {mib(limit)} limit"
        checks = [self.check("working set", top.value < limit, f"{detail}, at {when(top.t, self.window)}")]
        if self.p.require_buffer:
            wanted = 1 / (1 + self.p.buffer)
            checks.append(
                self.check(
                    "buffer",
                    ratio <= wanted,
                    f"{detail} (the rule's {self.p.buffer:.0%} buffer wants at most {wanted:.0%})",
                )
            )
        return checks


ANALYZER = AnalyzerSpec("memory_limits", MemoryLimitsParams, run, describe)
