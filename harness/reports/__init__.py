"""Report sinks: verdicts.json, junit.xml and allure-results/, all from the same verdicts.

``write_reports`` writes all three into one directory (``reports/`` by default in the Makefile) and
returns the run's exit code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.catalogue.model import Catalogue
from harness.reports.allure import AllureWriter, ReportStep, write_allure, write_score_environment
from harness.reports.junit import render_junit, write_junit
from harness.reports.summary import render_summary
from harness.reports.verdicts_json import render_verdicts_json, write_verdicts_json
from harness.scoring import score_run, scored_exit_code
from harness.verdict import Verdict, exit_code

if TYPE_CHECKING:
    from harness.history.recording import RunHistory

VERDICTS_JSON = "verdicts.json"
JUNIT_XML = "junit.xml"
ALLURE_RESULTS = "allure-results"


def write_reports(
    directory: Path,
    verdicts: Sequence[Verdict],
    steps: Mapping[str, Sequence[ReportStep]] | None = None,
    complete: bool = True,
    catalogue: Catalogue | None = None,
    history: RunHistory | None = None,
) -> int:
    """Write every report and return the run's exit code (see harness.verdict.exit_code); with the
    ``catalogue``, the total score too, which gates the exit code when it has a ``total_score``
    (harness.scoring). With the ``history``, the run is appended to it once the exit code is known
    (harness.history.recording); ``verdicts`` then include its regression verdicts (``RunHistory.regressions``)."""
    score = score_run(verdicts, catalogue) if catalogue else None
    write_verdicts_json(directory / VERDICTS_JSON, verdicts, complete, score)
    write_junit(directory / JUNIT_XML, verdicts)
    write_allure(directory / ALLURE_RESULTS, verdicts, steps)
    write_score_environment(directory / ALLURE_RESULTS, score)
    code = scored_exit_code(exit_code(verdicts, complete), score)
    if history is not None:
        history.record(verdicts, code)
    return code


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
