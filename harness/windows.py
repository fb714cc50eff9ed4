"""Time windows on unix seconds, and a scenario's timeline of them.

A scenario runs steady -> fault -> recovery. The runner records the wall-clock instant of each phase
change (``PhaseMarks``); every measurement is then taken over one of the named windows derived from
those marks, so analyzers never guess at times. Windows are half-open ``[start, end)`` so consecutive
windows share an edge without overlapping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

DURATION = "duration"
Seconds = Annotated[float, DURATION]
"""A duration in seconds; in slas.yaml a number of seconds or a string like ``500ms``, ``30s``, ``2m``."""

WindowName = Literal["steady", "fault", "recovery", "whole"]
WINDOW_NAMES: tuple[WindowName, ...] = ("steady", "fault", "recovery", "whole")


@dataclass(frozen=True, slots=True)
class Window:
    """A named half-open interval ``[start, end)`` in unix seconds."""

    name: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"window {self.name!r} needs finite bounds")
        if self.end < self.start:
            raise ValueError(f"window {self.name!r} ends before it starts ({self.start} > {self.end})")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def empty(self) -> bool:
        return self.end == self.start

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end

    def split(self, parts: int) -> tuple[Window, ...]:
        """``parts`` consecutive windows covering this one exactly, without overlap."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        edges = [self.start + self.duration * i / parts for i in range(parts)] + [self.end]
        return tuple(Window(f"{self.name}[{i}]", edges[i], edges[i + 1]) for i in range(parts))

    def promql_range(self) -> str:
        """The window's duration as a PromQL range, whole milliseconds (PromQL takes no fractions)."""
        return f"{max(1, round(self.duration * 1000))}ms"


@dataclass(frozen=True, slots=True)
class PhaseMarks:
    """Wall-clock instants (unix seconds) at which a scenario changed phase.

    ``fault_start``/``fault_end`` are None for a scenario without a fault (a baseline): then the whole
    run is the steady window and the fault and recovery windows do not exist.
    """

    steady_start: float
    end: float
    fault_start: float | None = None
    fault_end: float | None = None


@dataclass(frozen=True, slots=True)
class ScenarioTimeline:
    """The steady, fault, recovery and whole windows of one scenario run."""

    steady: Window
    whole: Window
    fault: Window | None = None
    recovery: Window | None = None

    @classmethod
    def from_marks(cls, marks: PhaseMarks) -> ScenarioTimeline:
        whole = Window("whole", marks.steady_start, marks.end)
        if marks.fault_start is None and marks.fault_end is None:
            return cls(steady=Window("steady", marks.steady_start, marks.end), whole=whole)
        if marks.fault_start is None or marks.fault_end is None:
            raise ValueError("a fault needs both its start and its end mark")
        if not marks.steady_start <= marks.fault_start <= marks.fault_end <= marks.end:
            raise ValueError(
                "phase marks out of order: steady_start <= fault_start <= fault_end <= end is required"
            )
        return cls(
            steady=Window("steady", marks.steady_start, marks.fault_start),
            fault=Window("fault", marks.fault_start, marks.fault_end),
            recovery=Window("recovery", marks.fault_end, marks.end),
            whole=whole,
        )

    def window(self, name: WindowName) -> Window | None:
        """The named window, or None when this scenario has no such phase."""
        found: Window | None = getattr(self, name)
        return found

    @property
    def phases(self) -> tuple[Window, ...]:
        """The consecutive phase windows (without ``whole``), in time order."""
        return tuple(w for w in (self.steady, self.fault, self.recovery) if w is not None)


class PhaseClock:
    """Records a scenario's phase changes as they happen, on the wall clock Prometheus stamps samples
    with (unix seconds: these are instants to query at, not durations, so not ``time.monotonic``)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._steady: float | None = None
        self._fault_start: float | None = None
        self._fault_end: float | None = None

    def start(self) -> float:
        """The steady window begins (load running, no fault)."""
        self._steady = self._now()
        return self._steady

    def fault_started(self) -> float:
        """The fault is in force (and proven so): the fault window begins."""
        if self._steady is None or self._fault_start is not None:
            raise ValueError("fault_started() comes once, after start()")
        self._fault_start = self._now()
        return self._fault_start

    def fault_ended(self) -> float:
        """The fault is reverted: the recovery window begins."""
        if self._fault_start is None or self._fault_end is not None:
            raise ValueError("fault_ended() comes once, after fault_started()")
        self._fault_end = self._now()
        return self._fault_end

    def finish(self) -> ScenarioTimeline:
        """The run is over: its timeline. A fault still in force ends here too (the run was cut short)."""
        if self._steady is None:
            raise ValueError("finish() needs start() first")
        end = self._now()
        if self._fault_start is not None and self._fault_end is None:
            self._fault_end = end
        return ScenarioTimeline.from_marks(PhaseMarks(self._steady, end, self._fault_start, self._fault_end))
