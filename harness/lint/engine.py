"""Runs every registered rule over a model, applies the services' suppressions, orders the findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from harness.lint.config import LintConfig
from harness.lint.findings import Finding, Report, Severity
from harness.lint.model import SUPPRESS_KEY, ComposeModel
from harness.lint.rules import RULE_NUMBERS, RULES


def rule_key(number: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 999 for p in number.split("."))


def _suppress(model: ComposeModel, findings: Iterable[Finding]) -> list[Finding]:
    """Mark findings covered by a valid ``x-lint-suppress`` entry; report invalid and unused entries."""
    out = list(findings)
    for service in model.services:
        for entry in service.suppressions:
            loc = entry.loc
            if entry.rule not in RULE_NUMBERS:
                out.append(
                    Finding(
                        SUPPRESS_KEY,
                        Severity.ERROR,
                        service.name,
                        loc.file,
                        loc.line,
                        f"suppression names unknown rule {entry.rule!r}",
                    )
                )
                continue
            if not entry.reason:
                out.append(
                    Finding(
                        entry.rule,
                        Severity.ERROR,
                        service.name,
                        loc.file,
                        loc.line,
                        f"suppression of rule {entry.rule} has no reason: not applied",
                    )
                )
                continue
            covered = False
            for index, finding in enumerate(out):
                if (
                    finding.service == service.name
                    and finding.rule == entry.rule
                    and finding.suppressed is None
                ):
                    out[index] = replace(finding, suppressed=entry.reason)
                    covered = True
            if not covered:
                out.append(
                    Finding(
                        entry.rule,
                        Severity.WARNING,
                        service.name,
                        loc.file,
                        loc.line,
                        f"suppression of rule {entry.rule} matches no finding: remove it",
                    )
                )
    return out


def lint_model(model: ComposeModel, config: LintConfig) -> Report:
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule.check(model, config))
    order = {service.name: index for index, service in enumerate(model.services)}
    ordered = sorted(
        _suppress(model, findings),
        key=lambda f: (order.get(f.service, len(order)), f.file, f.line, rule_key(f.rule), f.message),
    )
    return Report(services=tuple(order), findings=tuple(ordered))
