"""Verdicts: what each SLA check concluded, with the evidence behind it, and the run's exit code.

An analyzer returns a ``Finding`` (status, measured value, threshold, reason, evidence); the judge
stamps it with the objective's identity to make a ``Verdict``. ``exit_code`` turns a run's verdicts
into the gate's answer:

    1  any gate verdict failed                  (a rule is broken: block the release)
    2  else any gate verdict is an error, or no gate verdict was judged at all
       (the harness could not measure: never a silent pass)
    0  every judged gate verdict passed         (warn verdicts never change the exit code)

A definite failure outranks an error: the release is blocked either way, and "an SLA failed" is the
actionable answer; an exit 2 invites a retry that would only hide a reproducible failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from harness.metrics.port import Series
from harness.windows import Window

Status = Literal["pass", "fail", "error", "skipped"]
Severity = Literal["gate", "warn"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "skipped")
SEVERITIES: tuple[Severity, ...] = ("gate", "warn")


@dataclass(frozen=True, slots=True)
class Figure:
    """A named measured figure, e.g. ``failures_at_open = 5``."""

    name: str
    value: float
    unit: str = ""


Measured = float | tuple[Figure, ...] | None
"""One number, several named figures (analyzers), or nothing (error, skipped)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One sub-check an analyzer made, e.g. ``half_open_delay`` of one service: pass, with why."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the verdict rests on: queries, windows, derived figures, sub-checks and the raw samples."""

    queries: tuple[str, ...] = ()
    window: Window | None = None
    phases: tuple[Window, ...] = ()
    figures: tuple[Figure, ...] = ()
    checks: tuple[Check, ...] = ()
    samples: tuple[Series, ...] = ()
    plot: tuple[Series, ...] = ()
    """The series worth drawing over the timeline (a subset of, or derived from, the samples)."""
    limit: float | None = None
    """The numeric threshold, when there is one, for the plot."""
    states: tuple[str, ...] = ()
    """When the plot's series are a state gauge, the states' names: value ``i`` is ``states[i]``."""


@dataclass(frozen=True, slots=True)
class Finding:
    """An analyzer's conclusion, before it is tied to an objective and scenario."""

    status: Status
    measured: Measured
    threshold: str
    reason: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Verdict:
    """The conclusion of one SLA objective in one scenario."""

    id: str
    rule: str
    scenario: str
    window: str
    severity: Severity
    status: Status
    measured: Measured
    threshold: str
    reason: str
    evidence: Evidence
    description: str = ""


def combine(statuses: Iterable[Status]) -> Status:
    """The status of a check made of sub-checks: fail > error > pass; skipped only if all were skipped,
    error if there were none (nothing was measured)."""
    seen = set(statuses)
    if "fail" in seen:
        return "fail"
    if "error" in seen:
        return "error"
    if "pass" in seen:
        return "pass"
    return "skipped" if seen else "error"


def exit_code(verdicts: Iterable[Verdict], complete: bool = True) -> int:
    """1 if a gate verdict failed; else 2 if one errored, none was judged, or the run was not
    ``complete`` (interrupted, or a scenario could not run: its objectives were never judged); else 0."""
    gate = [v.status for v in verdicts if v.severity == "gate"]
    if "fail" in gate:
        return 1
    if "error" in gate or "pass" not in gate or not complete:
        return 2
    return 0
