"""Allure results written through allure-python-commons, without pytest: one result per verdict.

The results are ``allure_commons.model2`` objects handed to the library's ``AllureFileLogger``, so the
files follow the library's format. Each result has steps for what the runner did (stack, fault, load:
``ReportStep``s it passes per scenario) and for the evidence (one sub-step per check), and attachments:
the PromQL, the window, the values as JSON and a timeline plot with the fault window shaded.

A verdict's identity is its scenario, objective and window (``identity``): Allure 2 takes results with
the same ``testCaseId`` and the same parameters for retries of one test, so the objective alone would
fold the same check in several scenarios into one test.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    ATTACHMENT_PATTERN,
    Attachment,
    Label,
    Parameter,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from harness.reports.files import write_atomic
from harness.reports.shape import evidence_json, measured_json, window_json
from harness.reports.svg import timeline_svg
from harness.scoring import Score, result_text, tally_text
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


def identity(verdict: Verdict) -> str:
    """The same for the same scenario, objective and window in every run, different otherwise: the
    result's ``testCaseId`` and ``historyId``, so each verdict is its own test with its own history."""
    parts = (verdict.scenario, verdict.id, verdict.window)
    return hashlib.md5("\x1f".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def _ms(t: float) -> int:
    return round(t * 1000)


def _details(reason: str) -> StatusDetails | None:
    # The logger leaves out empty fields, but an empty StatusDetails object would still be written.
    return StatusDetails(message=reason) if reason else None


def _labels(verdict: Verdict) -> list[Label]:
    return [
        Label(name="parentSuite", value="sla"),
        Label(name="suite", value=verdict.scenario),
        Label(name="feature", value=f"rule {verdict.rule}"),
        Label(name="story", value=verdict.id),
        Label(name="severity", value=ALLURE_SEVERITY[verdict.severity]),
        Label(name="tag", value=verdict.severity),
        Label(name="framework", value="chaos-sla-harness"),
    ]


def _parameters(verdict: Verdict) -> list[Parameter]:
    # Shown, but excluded from Allure's identity: tonight's measured value (or an edited threshold)
    # must not start a new history line; the identity is the testCaseId alone.
    measured = json.dumps(measured_json(verdict.measured), allow_nan=False)
    shown = [("window", verdict.window), ("threshold", verdict.threshold), ("measured", measured)]
    return [Parameter(name=name, value=value, excluded=True) for name, value in shown]


def _span(verdict: Verdict, steps: Sequence[ReportStep]) -> tuple[float, float]:
    evidence = verdict.evidence
    # A verdict without a window (skipped) spans its scenario's phases, or the runner's steps.
    spans = [evidence.window] if evidence.window else list(evidence.phases)
    start = min([w.start for w in spans] + [s.start for s in steps], default=0.0)
    stop = max([w.end for w in spans] + [s.stop for s in steps], default=0.0)
    return start, stop


class AllureWriter:
    """Writes results and their attachments into one allure-results directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._logger = AllureFileLogger(directory)

    def attach(self, name: str, body: str, mime: str, extension: str) -> Attachment:
        source = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext=extension)
        self._logger.report_attached_data(body=body, file_name=source)
        return Attachment(name=name, source=source, type=mime)

    def write(self, verdict: Verdict, steps: Sequence[ReportStep] = ()) -> TestResult:
        start, stop = _span(verdict, steps)
        result = TestResult(
            uuid=str(uuid.uuid4()),
            historyId=identity(verdict),
            testCaseId=identity(verdict),
            fullName=f"sla.{verdict.scenario}.{verdict.id}.{verdict.window}",
            name=f"{verdict.id} [{verdict.scenario}/{verdict.window}]",
            description=verdict.description,
            status=ALLURE_STATUS[verdict.status],
            statusDetails=_details(verdict.reason),
            stage="finished",
            start=_ms(start),
            stop=_ms(stop),
            labels=_labels(verdict),
            parameters=_parameters(verdict),
            steps=[*map(self._step, steps), self._evidence_step(verdict, start, stop)],
            attachments=self._evidence_attachments(verdict),
        )
        self._logger.report_result(result)
        return result

    def _evidence_attachments(self, verdict: Verdict) -> list[Attachment]:
        evidence = verdict.evidence
        window = {
            "window": window_json(evidence.window) if evidence.window else None,
            "phases": [window_json(w) for w in evidence.phases],
        }
        values = json.dumps(evidence_json(verdict), indent=2, allow_nan=False)
        return [
            self.attach("PromQL", "\n\n".join(evidence.queries) or "(no query)", "text/plain", "txt"),
            self.attach("window", json.dumps(window, indent=2), "application/json", "json"),
            self.attach("values", values, "application/json", "json"),
            self.attach("timeline", timeline_svg(verdict), "image/svg+xml", "svg"),
        ]

    def _step(self, step: ReportStep) -> TestStepResult:
        attachments = [self.attach(step.name, step.detail, "text/plain", "txt")] if step.detail else []
        return TestStepResult(
            name=step.name,
            status=ALLURE_STATUS[step.status],
            stage="finished",
            start=_ms(step.start),
            stop=_ms(step.stop),
            attachments=attachments,
        )

    def _evidence_step(self, verdict: Verdict, start: float, stop: float) -> TestStepResult:
        checks = [
            TestStepResult(
                name=f"{c.name}: {c.detail}",
                status=ALLURE_STATUS[c.status],
                stage="finished",
                start=_ms(start),
                stop=_ms(stop),
            )
            for c in verdict.evidence.checks
        ]
        return TestStepResult(
            name=f"evidence: {verdict.threshold}",
            status=ALLURE_STATUS[verdict.status],
            statusDetails=_details(verdict.reason),
            stage="finished",
            start=_ms(start),
            stop=_ms(stop),
            steps=checks,
        )


def write_allure(
    directory: Path, verdicts: Sequence[Verdict], steps: Mapping[str, Sequence[ReportStep]] | None = None
) -> list[TestResult]:
    """One result per verdict; ``steps`` maps a scenario name to the runner's steps for it.

    The results of an earlier run in ``directory`` are removed first (as allure-pytest's
    --clean-alluredir does), else Allure would show them as retries; its ``history/`` stays for trends.
    """
    for stale in [*directory.glob("*-result.json"), *directory.glob("*-attachment.*")]:
        stale.unlink()
    # Written first: it creates the directory, and a path that cannot be one fails here as one line.
    write_atomic(directory / "categories.json", json.dumps(CATEGORIES, indent=2))
    writer = AllureWriter(directory)
    return [writer.write(v, (steps or {}).get(v.scenario, ())) for v in verdicts]


ENVIRONMENT = "environment.properties"


def write_score_environment(directory: Path, score: Score | None) -> None:
    """The total score and each scenario's in ``environment.properties``, which Allure shows on the
    report's overview page; removed when there is no score, so an older run's is never shown."""
    path = directory / ENVIRONMENT
    if score is None:
        path.unlink(missing_ok=True)
        return
    lines = [f"score={tally_text(score.tally())}", f"score.result={result_text(score)}"]
    lines += [f"score.scenario.{name}={tally_text(score.tally(name))}" for name in score.scenarios()]
    write_atomic(path, "\n".join(lines) + "\n")
