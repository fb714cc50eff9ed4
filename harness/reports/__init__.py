"""Report sinks: verdicts.json, junit.xml and allure-results/, all from the same verdicts.

``write_reports`` writes all three into one directory (``reports/`` by default in the Makefile) and
returns the run's exit code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.reports.allure import AllureWriter, ReportStep, write_allure
from harness.reports.junit import render_junit, write_junit
from harness.reports.summary import render_summary
from harness.reports.verdicts_json import render_verdicts_json, write_verdicts_json
from harness.verdict import Verdict, exit_code

VERDICTS_JSON = "verdicts.json"
JUNIT_XML = "junit.xml"
ALLURE_RESULTS = "allure-results"


def write_reports(
    directory: Path,
    verdicts: Sequence[Verdict],
    steps: Mapping[str, Sequence[ReportStep]] | None = None,
    complete: bool = True,
) -> int:
    """Write every report and return the run's exit code (see harness.verdict.exit_code)."""
    write_verdicts_json(directory / VERDICTS_JSON, verdicts, complete)
    write_junit(directory / JUNIT_XML, verdicts)
    write_allure(directory / ALLURE_RESULTS, verdicts, steps)
    return exit_code(verdicts, complete)


__all__ = [
    "ALLURE_RESULTS",
    "JUNIT_XML",
    "VERDICTS_JSON",
    "AllureWriter",
    "ReportStep",
    "render_junit",
    "render_summary",
    "render_verdicts_json",
    "write_allure",
    "write_junit",
    "write_reports",
    "write_verdicts_json",
]
