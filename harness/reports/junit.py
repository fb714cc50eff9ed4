"""junit.xml: one testsuite per scenario, one testcase per verdict.

fail -> ``<failure>``, error -> ``<error>``, skipped -> ``<skipped>``; the failure type says
``gate`` or ``warn`` so a CI can tell which failures decided the exit code. The evidence (JSON) is the
testcase's ``system-out``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from harness.reports.files import write_atomic
from harness.reports.shape import evidence_json
from harness.verdict import Verdict

_ELEMENT = {"fail": "failure", "error": "error", "skipped": "skipped"}


def _counts(verdicts: Sequence[Verdict]) -> dict[str, str]:
    return {
        "tests": str(len(verdicts)),
        "failures": str(sum(v.status == "fail" for v in verdicts)),
        "errors": str(sum(v.status == "error" for v in verdicts)),
        "skipped": str(sum(v.status == "skipped" for v in verdicts)),
    }


def _duration(verdict: Verdict) -> float:
    window = verdict.evidence.window
    return window.duration if window else 0.0


def render_junit(verdicts: Sequence[Verdict]) -> str:
    root = ET.Element("testsuites", {"name": "sla", **_counts(verdicts)})
    scenarios: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        scenarios.setdefault(verdict.scenario, []).append(verdict)
    for scenario, members in scenarios.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            {"name": scenario, **_counts(members), "time": f"{sum(map(_duration, members)):.3f}"},
        )
        for verdict in members:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"sla.{verdict.scenario}",
                    "name": f"{verdict.id} [{verdict.window}]",
                    "time": f"{_duration(verdict):.3f}",
                },
            )
            properties = ET.SubElement(case, "properties")
            for name, value in (
                ("rule", verdict.rule),
                ("severity", verdict.severity),
                ("threshold", verdict.threshold),
                ("status", verdict.status),
            ):
                ET.SubElement(properties, "property", {"name": name, "value": value})
            element = _ELEMENT.get(verdict.status)
            if element:
                outcome = ET.SubElement(case, element, {"message": verdict.reason, "type": verdict.severity})
                if element != "skipped":
                    outcome.text = "\n".join(
                        f"[{c.status}] {c.name}: {c.detail}" for c in verdict.evidence.checks
                    )
            ET.SubElement(case, "system-out").text = json.dumps(
                evidence_json(verdict), indent=1, allow_nan=False
            )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, verdicts: Sequence[Verdict]) -> None:
    write_atomic(path, render_junit(verdicts))
