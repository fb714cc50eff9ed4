"""Rendering a report: text for people, JSON, JUnit XML (a test case per service and rule), SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from harness.lint.findings import INPUT_RULE, Finding, Report, Severity
from harness.lint.rules import RULES

TOOL = "harness-lint"


def render_text(report: Report) -> str:
    lines: list[str] = []
    current = None
    for finding in report.findings:
        if finding.service != current:
            current = finding.service
            if current:  # an input error belongs to no service
                lines.append(f"{current}:")
        state = (
            f"suppressed {finding.severity.value}"
            if finding.suppressed is not None
            else finding.severity.value
        )
        reason = f" [suppressed: {finding.suppressed}]" if finding.suppressed is not None else ""
        lines.append(f"  {finding.file}:{finding.line}: {state} {finding.rule}: {finding.message}{reason}")
    s = report.summary
    lines.append(
        f"{s.services} services: {s.errors} errors, {s.warnings} warnings"
        + (f", {s.suppressed} suppressed" if s.suppressed else "")
    )
    return "\n".join(lines) + "\n"


def _finding_json(finding: Finding) -> dict[str, object]:
    entry: dict[str, object] = {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "service": finding.service,
        "file": finding.file,
        "line": finding.line,
        "message": finding.message,
    }
    if finding.suppressed is not None:
        entry["suppressed"] = finding.suppressed
    return entry


def render_json(report: Report) -> str:
    s = report.summary
    document = {
        "findings": [_finding_json(f) for f in report.findings],
        "summary": {"services": s.services, "errors": s.errors, "warnings": s.warnings},
    }
    return json.dumps(document, indent=2) + "\n"


def _case_rules(report: Report) -> list[tuple[str, str]]:
    known = [(rule.number, rule.title) for rule in RULES]
    extra = sorted({f.rule for f in report.findings} - {number for number, _ in known})
    titles = {INPUT_RULE: "Input Compose refuses or the lint cannot read"}
    return known + [(rule, titles.get(rule, "lint configuration")) for rule in extra]


def _input_errors(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == INPUT_RULE]


def _rule_case(suite: ET.Element, service: str, rule: str, found: list[Finding]) -> bool:
    """One service's case for one rule: a failure per error, skipped when all is suppressed; True if skipped."""
    case = ET.SubElement(suite, "testcase", classname=service, name=rule)
    errors = [f for f in found if f.severity is Severity.ERROR and f.suppressed is None]
    others = [f for f in found if f not in errors]
    skipped = bool(found) and all(f.suppressed is not None for f in found)
    if errors:
        failure = ET.SubElement(case, "failure", message=errors[0].message, type="error")
        failure.text = "\n".join(f"{f.file}:{f.line}: {f.message}" for f in errors)
    elif skipped:
        ET.SubElement(case, "skipped", message=f"suppressed: {found[0].suppressed}")
    if others:
        ET.SubElement(case, "system-out").text = "\n".join(
            f"{f.file}:{f.line}: {'suppressed ' if f.suppressed is not None else ''}{f.severity.value}: {f.message}"
            for f in others
        )
    return skipped


def render_junit(report: Report) -> str:
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        by_case.setdefault((finding.service, finding.rule), []).append(finding)
    unread = _input_errors(report)
    suite = ET.Element("testsuite", name=TOOL)
    skipped = sum(
        _rule_case(suite, service, f"rule {number}: {title}", by_case.get((service, number), []))
        for service in report.services
        for number, title in _case_rules(report)
        if number != INPUT_RULE
    )
    for finding in unread:  # the files could not be judged: a JUnit <error>, not a failure
        case = ET.SubElement(suite, "testcase", classname=finding.file, name="input readable")
        error = ET.SubElement(case, "error", message=finding.message, type="input")
        error.text = f"{finding.file}:{finding.line}: {finding.message}"
    counts = {
        "tests": str(len(suite)),
        "failures": str(sum(case.find("failure") is not None for case in suite)),
        "errors": str(len(unread)),
    }
    suite.attrib.update({**counts, "skipped": str(skipped)})
    suites = ET.Element("testsuites", {"name": TOOL, **counts})
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _uri(path: str) -> str:
    p = Path(path)
    return p.as_uri() if p.is_absolute() else p.as_posix()


def render_sarif(report: Report) -> str:
    rules = _case_rules(report)
    index = {number: i for i, (number, _) in enumerate(rules)}
    results = []
    for finding in report.findings:
        result: dict[str, object] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": finding.severity.value,
            "message": {
                "text": f"{finding.service}: {finding.message}" if finding.service else finding.message
            },
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.file)},
                        "region": {"startLine": max(finding.line, 1)},
                    }
                }
            ],
        }
        if finding.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
        results.append(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "rules": [
                            {
                                "id": number,
                                "name": f"rule-{number}",
                                "shortDescription": {"text": f"architecture-rules.md {number}: {title}"},
                            }
                            for number, title in rules
                        ],
                    }
                },
                "results": results,
                "invocations": [{"executionSuccessful": not _input_errors(report)}],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "sarif": render_sarif,
}
