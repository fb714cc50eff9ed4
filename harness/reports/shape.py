"""Verdicts as JSON-ready data: the one shape verdicts.json, JUnit and Allure attachments share.

Non-finite floats (NaN, +Inf) are written as the strings Prometheus uses, since JSON has no such
numbers.
"""

from __future__ import annotations

import math
from typing import Any

from harness.metrics.port import Series
from harness.verdict import Evidence, Measured, Verdict
from harness.windows import Window

JSON = Any


def number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def measured_json(measured: Measured) -> JSON:
    if measured is None:
        return None
    if isinstance(measured, tuple):
        return {f.name: number(f.value) for f in measured}
    return number(measured)


def window_json(window: Window) -> JSON:
    return {"name": window.name, "start": window.start, "end": window.end, "duration": window.duration}


def series_json(series: Series) -> JSON:
    return {"labels": dict(series.labels), "values": [[s.t, number(s.value)] for s in series.samples]}


def evidence_json(verdict: Verdict) -> JSON:
    evidence: Evidence = verdict.evidence
    return {
        "severity": verdict.severity,
        "reason": verdict.reason,
        "description": verdict.description,
        "query": list(evidence.queries),
        "window": window_json(evidence.window) if evidence.window else None,
        "phases": [window_json(w) for w in evidence.phases],
        "measured": measured_json(verdict.measured),
        "figures": [{"name": f.name, "value": number(f.value), "unit": f.unit} for f in evidence.figures],
        "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in evidence.checks],
        "samples": [series_json(s) for s in evidence.samples],
    }


def verdict_json(verdict: Verdict) -> JSON:
    return {
        "id": verdict.id,
        "rule": verdict.rule,
        "scenario": verdict.scenario,
        "window": verdict.window,
        "status": verdict.status,
        "measured": measured_json(verdict.measured),
        "threshold": verdict.threshold,
        "evidence": evidence_json(verdict),
    }
