"""Allure results written directly, without pytest: one ``<uuid>-result.json`` per verdict.

Field names follow allure-python-commons' own model (``allure_commons.model2.TestResult``, written by
``AllureFileLogger``: empty fields left out). Each result has steps for what the runner did (stack,
fault, load: ``ReportStep``s it passes per scenario) and for the evidence (one sub-step per check),
and attachments: the PromQL, the window, the values as JSON and a timeline plot with the fault
window shaded.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.reports.files import write_atomic
from harness.reports.shape import evidence_json, measured_json, window_json
from harness.reports.svg import timeline_svg
from harness.verdict import Status, Verdict

ALLURE_STATUS: dict[Status, str] = {
    "pass": "passed",
    "fail": "failed",
    "error": "broken",
    "skipped": "skipped",
}
ALLURE_SEVERITY = {"gate": "critical", "warn": "minor"}
# Allure's report groups results by these (allure-results/categories.json): a broken SLA is not the
# same news as a measurement the harness could not make.
CATEGORIES = [
    {"name": "SLA failed", "matchedStatuses": ["failed"]},
    {"name": "Could not measure (resolution, no data, Prometheus)", "matchedStatuses": ["broken"]},
]


@dataclass(frozen=True, slots=True)
class ReportStep:
    """Something the runner did during a scenario (stack up, fault injected and proven, load), in
    unix seconds, to show as a step of every verdict of that scenario."""

    name: str
    start: float
    stop: float
    status: Status = "pass"
    detail: str = ""


def _ms(t: float) -> int:
    return round(t * 1000)


def _md5(*parts: str) -> str:
    return hashlib.md5("\x1f".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    # AllureFileLogger writes asdict(filter=lambda _, v: v or v is False): empty fields are left out.
    return {k: v for k, v in item.items() if v or v is False}


class AllureWriter:
    """Writes results and their attachments into one allure-results directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def attach(self, name: str, body: str, mime: str, extension: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{extension}"
        write_atomic(self.directory / source, body)
        return {"name": name, "source": source, "type": mime}

    def write(self, verdict: Verdict, steps: Sequence[ReportStep] = ()) -> Path:
        evidence = verdict.evidence
        window = evidence.window
        # A verdict without a window (skipped) spans its scenario's phases, or the runner's steps.
        spans = [window] if window else list(evidence.phases)
        start = min([w.start for w in spans] + [s.start for s in steps], default=0.0)
        stop = max([w.end for w in spans] + [s.stop for s in steps], default=0.0)
        attachments = [
            self.attach("PromQL", "\n\n".join(evidence.queries) or "(no query)", "text/plain", "txt"),
            self.attach(
                "window",
                json.dumps(
                    {
                        "window": window_json(window) if window else None,
                        "phases": [window_json(w) for w in evidence.phases],
                    },
                    indent=2,
                ),
                "application/json",
                "json",
            ),
            self.attach(
                "values",
                json.dumps(evidence_json(verdict), indent=2, allow_nan=False),
                "application/json",
                "json",
            ),
            self.attach("timeline", timeline_svg(verdict), "image/svg+xml", "svg"),
        ]
        result_uuid = str(uuid.uuid4())
        result = _compact(
            {
                "uuid": result_uuid,
                "historyId": _md5(verdict.scenario, verdict.id, verdict.window),
                "testCaseId": _md5(verdict.id),
                "fullName": f"sla.{verdict.scenario}.{verdict.id}",
                "name": f"{verdict.id} [{verdict.scenario}/{verdict.window}]",
                "description": verdict.description,
                "status": ALLURE_STATUS[verdict.status],
                "statusDetails": _compact({"message": verdict.reason}),
                "stage": "finished",
                "start": _ms(start),
                "stop": _ms(stop),
                "labels": [
                    {"name": "parentSuite", "value": "sla"},
                    {"name": "suite", "value": verdict.scenario},
                    {"name": "feature", "value": f"rule {verdict.rule}"},
                    {"name": "story", "value": verdict.id},
                    {"name": "severity", "value": ALLURE_SEVERITY[verdict.severity]},
                    {"name": "tag", "value": verdict.severity},
                    {"name": "framework", "value": "chaos-sla-harness"},
                ],
                "parameters": [
                    {"name": "window", "value": verdict.window},
                    {"name": "threshold", "value": verdict.threshold},
                    {
                        "name": "measured",
                        "value": json.dumps(measured_json(verdict.measured), allow_nan=False),
                    },
                ],
                "steps": [self._step(s) for s in steps] + [self._evidence_step(verdict, start, stop)],
                "attachments": attachments,
            }
        )
        path = self.directory / f"{result_uuid}-result.json"
        write_atomic(path, json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False))
        return path

    def _step(self, step: ReportStep) -> dict[str, Any]:
        attachments = [self.attach(step.name, step.detail, "text/plain", "txt")] if step.detail else []
        return _compact(
            {
                "name": step.name,
                "status": ALLURE_STATUS[step.status],
                "stage": "finished",
                "start": _ms(step.start),
                "stop": _ms(step.stop),
                "attachments": attachments,
            }
        )

    def _evidence_step(self, verdict: Verdict, start: float, stop: float) -> dict[str, Any]:
        checks = [
            _compact(
                {
                    "name": f"{c.name}: {c.detail}",
                    "status": ALLURE_STATUS[c.status],
                    "stage": "finished",
                    "start": _ms(start),
                    "stop": _ms(stop),
                }
            )
            for c in verdict.evidence.checks
        ]
        return _compact(
            {
                "name": f"evidence: {verdict.threshold}",
                "status": ALLURE_STATUS[verdict.status],
                "stage": "finished",
                "statusDetails": _compact({"message": verdict.reason}),
                "start": _ms(start),
                "stop": _ms(stop),
                "steps": checks,
            }
        )


def write_allure(
    directory: Path, verdicts: Sequence[Verdict], steps: Mapping[str, Sequence[ReportStep]] | None = None
) -> list[Path]:
    """One result per verdict; ``steps`` maps a scenario name to the runner's steps for it.

    The results of an earlier run in ``directory`` are removed first (as allure-pytest's
    --clean-alluredir does), else Allure would show them as retries; its ``history/`` stays for trends.
    """
    for stale in [*directory.glob("*-result.json"), *directory.glob("*-attachment.*")]:
        stale.unlink()
    writer = AllureWriter(directory)
    write_atomic(directory / "categories.json", json.dumps(CATEGORIES, indent=2))
    return [writer.write(v, (steps or {}).get(v.scenario, ())) for v in verdicts]
