"""What the lint reports: findings with their rule, severity and file:line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    service: str
    file: str
    line: int
    message: str
    suppressed: str | None = None  # the reason, when an x-lint-suppress entry covers this finding


INPUT_RULE = "input"  # the rule of an input error's finding: the files could not be judged


@dataclass(frozen=True, slots=True)
class Summary:
    services: int
    errors: int
    warnings: int
    suppressed: int


@dataclass(frozen=True, slots=True)
class Report:
    services: tuple[str, ...]  # in file order
    findings: tuple[Finding, ...]  # grouped by service (file order), then by line

    @property
    def summary(self) -> Summary:
        active = [f for f in self.findings if f.suppressed is None]
        return Summary(
            services=len(self.services),
            errors=sum(f.severity is Severity.ERROR for f in active),
            warnings=sum(f.severity is Severity.WARNING for f in active),
            suppressed=len(self.findings) - len(active),
        )

    @property
    def exit_code(self) -> int:
        return 1 if self.summary.errors else 0


def input_error_report(path: str, line: int | None, column: int | None, message: str) -> Report:
    """A report holding only an input error (``message`` starts with its location), so that a requested
    report file still exists and parses."""
    where = ":".join(str(part) for part in (path, line, column) if part is not None)
    cause = message.removeprefix(f"{where}: ")
    return Report(services=(), findings=(Finding(INPUT_RULE, Severity.ERROR, "", path, line or 1, cause),))
