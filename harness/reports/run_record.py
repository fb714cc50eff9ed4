"""The record of a run: when each scenario's phases changed, what the runner did, and the dependency graph.

The runner writes it (``reports/run.json``) as it goes; with it a run can be judged again later
(``python -m harness judge``) for as long as Prometheus keeps the data: after a change of thresholds
in slas.yaml, or to debug an analyzer. Everything in it is plain JSON:

    {"version": 1,
     "graph": {"service": ["dependency", ...], ...},
     "scenarios": [{"name": "redis-kill",
                    "marks": {"steady_start": t, "fault_start": t, "fault_end": t, "end": t},
                    "steps": [{"name": "...", "start": t, "stop": t, "status": "pass", "detail": "..."}]}],
     "bring_up": [{"phase": 1, "services": ["redis", ...], "started_at": t, "healthy_at": t,
                   "containers": [{"service": "redis", "name": "refstack_redis_1", "started_at": t}]}]}

Times are unix seconds. A scenario without a fault has ``fault_start``/``fault_end`` null. ``bring_up`` is
how this run brought the stack up, phase by phase (harness/bringup.py); a record without it (an older run)
reads as no bring-up, which ``phased_deploy`` judges an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.bringup import BringUp, ContainerStart, PhaseTiming
from harness.errors import InputError
from harness.reports.allure import ReportStep
from harness.reports.files import write_atomic
from harness.verdict import STATUSES
from harness.windows import PhaseMarks, ScenarioTimeline

VERSION = 1
LATEST = 253402300799.0
"""9999-12-31T23:59:59Z: the last instant a datetime, and so the Prometheus client, can express."""


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    name: str
    marks: PhaseMarks
    steps: tuple[ReportStep, ...] = ()

    @property
    def timeline(self) -> ScenarioTimeline:
        return ScenarioTimeline.from_marks(self.marks)


@dataclass(frozen=True, slots=True)
class RunRecord:
    scenarios: tuple[ScenarioRecord, ...]
    graph: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    bring_up: BringUp = ()

    def steps(self) -> dict[str, Sequence[ReportStep]]:
        return {s.name: s.steps for s in self.scenarios}


def record_json(record: RunRecord) -> dict[str, Any]:
    return {
        "version": VERSION,
        "graph": {service: sorted(deps) for service, deps in sorted(record.graph.items())},
        "scenarios": [
            {
                "name": s.name,
                "marks": {
                    "steady_start": s.marks.steady_start,
                    "fault_start": s.marks.fault_start,
                    "fault_end": s.marks.fault_end,
                    "end": s.marks.end,
                },
                "steps": [
                    {"name": p.name, "start": p.start, "stop": p.stop, "status": p.status, "detail": p.detail}
                    for p in s.steps
                ],
            }
            for s in record.scenarios
        ],
        "bring_up": [
            {
                "phase": p.phase,
                "services": list(p.services),
                "started_at": p.started_at,
                "healthy_at": p.healthy_at,
                "containers": [
                    {"service": c.service, "name": c.name, "started_at": c.started_at} for c in p.containers
                ],
            }
            for p in record.bring_up
        ],
    }


def write_run_record(path: Path, record: RunRecord) -> None:
    write_atomic(path, json.dumps(record_json(record), indent=2, allow_nan=False) + "\n")


class _Reader:
    """Checks one JSON value at a time, naming the JSON path of whatever is wrong."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> InputError:
        return InputError(self.path, None, f"{where}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, "expected a non-empty string")
        return value

    def instant(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= LATEST:
            raise self.fail(
                where,
                f"expected unix seconds between 0 and {LATEST:.0f} (1970 to 9999), got {json.dumps(value)[:40]}",
            )
        return float(value)

    def optional_instant(self, value: Any, where: str) -> float | None:
        return None if value is None else self.instant(value, where)


def _step(r: _Reader, raw: Any, at: str) -> ReportStep:
    step = r.mapping(raw, at)
    status = step.get("status", "pass")
    if status not in STATUSES:
        raise r.fail(f"{at}.status", f"expected one of {', '.join(STATUSES)}")
    start, stop = r.instant(step.get("start"), f"{at}.start"), r.instant(step.get("stop"), f"{at}.stop")
    if stop < start:
        raise r.fail(f"{at}.stop", f"stops at {stop:.3f}, before it starts ({start:.3f})")
    return ReportStep(
        r.string(step.get("name"), f"{at}.name"), start, stop, status, str(step.get("detail", ""))
    )


def _scenario(r: _Reader, raw: Any, where: str) -> ScenarioRecord:
    item = r.mapping(raw, where)
    marks_raw = r.mapping(item.get("marks"), f"{where}.marks")
    marks = PhaseMarks(
        r.instant(marks_raw.get("steady_start"), f"{where}.marks.steady_start"),
        r.instant(marks_raw.get("end"), f"{where}.marks.end"),
        r.optional_instant(marks_raw.get("fault_start"), f"{where}.marks.fault_start"),
        r.optional_instant(marks_raw.get("fault_end"), f"{where}.marks.fault_end"),
    )
    try:
        ScenarioTimeline.from_marks(marks)
    except ValueError as exc:
        raise r.fail(f"{where}.marks", str(exc)) from exc
    steps = r.items(item.get("steps", []), f"{where}.steps")
    return ScenarioRecord(
        r.string(item.get("name"), f"{where}.name"),
        marks,
        tuple(_step(r, step, f"{where}.steps[{number}]") for number, step in enumerate(steps)),
    )


def _container(r: _Reader, raw: Any, at: str) -> ContainerStart:
    item = r.mapping(raw, at)
    return ContainerStart(
        r.string(item.get("service"), f"{at}.service"),
        r.string(item.get("name"), f"{at}.name"),
        r.instant(item.get("started_at"), f"{at}.started_at"),
    )


def _phase(r: _Reader, raw: Any, at: str) -> PhaseTiming:
    item = r.mapping(raw, at)
    number = item.get("phase")
    if isinstance(number, bool) or not isinstance(number, int):
        raise r.fail(f"{at}.phase", "expected a whole number")
    started, healthy = (
        r.instant(item.get("started_at"), f"{at}.started_at"),
        r.instant(item.get("healthy_at"), f"{at}.healthy_at"),
    )
    if healthy < started:
        raise r.fail(f"{at}.healthy_at", f"healthy at {healthy:.3f}, before it started ({started:.3f})")
    containers = r.items(item.get("containers", []), f"{at}.containers")
    return PhaseTiming(
        number,
        tuple(r.string(s, f"{at}.services") for s in r.items(item.get("services"), f"{at}.services")),
        started,
        healthy,
        tuple(_container(r, c, f"{at}.containers[{n}]") for n, c in enumerate(containers)),
    )


def parse_run_record(document: Any, path: str) -> RunRecord:
    r = _Reader(path)
    top = r.mapping(document, "run record")
    version = top.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise r.fail("version", f"expected {VERSION}, got {json.dumps(version)[:40]}")
    graph = {
        r.string(service, "graph"): frozenset(
            r.string(d, f"graph.{service}") for d in r.items(deps, f"graph.{service}")
        )
        for service, deps in r.mapping(top.get("graph", {}), "graph").items()
    }
    scenarios: dict[str, int] = {}
    records = []
    for index, raw in enumerate(r.items(top.get("scenarios"), "scenarios")):
        record = _scenario(r, raw, f"scenarios[{index}]")
        # Judged twice, a scenario's verdicts would share their ids in every report.
        if record.name in scenarios:
            first = scenarios[record.name]
            raise r.fail(
                f"scenarios[{index}].name", f"'{record.name}' is recorded twice (first at scenarios[{first}])"
            )
        scenarios[record.name] = index
        records.append(record)
    phases = r.items(top.get("bring_up", []), "bring_up")
    bring_up = tuple(_phase(r, raw, f"bring_up[{n}]") for n, raw in enumerate(phases))
    return RunRecord(tuple(records), MappingProxyType(graph), bring_up)


def load_run_record(path: str | Path) -> RunRecord:
    name = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(name, None, "no such file") from exc
    except json.JSONDecodeError as exc:
        raise InputError(name, exc.lineno, f"invalid JSON: {exc.msg}", exc.colno) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, None, f"cannot read: {exc}") from exc
    return parse_run_record(document, name)
