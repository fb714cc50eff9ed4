"""What every rule check shares: its signature and the constructors of its findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from harness.lint.config import LintConfig
from harness.lint.findings import Finding, Severity
from harness.lint.merge import Loc
from harness.lint.model import ComposeModel, Service

Check = Callable[[ComposeModel, LintConfig], Iterable[Finding]]


def error(rule: str, service: Service, loc: Loc, message: str) -> Finding:
    return Finding(rule, Severity.ERROR, service.name, loc.file, loc.line, message)


def warning(rule: str, service: Service, loc: Loc, message: str) -> Finding:
    return Finding(rule, Severity.WARNING, service.name, loc.file, loc.line, message)


def seconds(value: float) -> str:
    return f"{value:g}s"


def matches(service: Service, words: tuple[str, ...]) -> bool:
    """Whether the service's name or image names one of ``words`` (rules 12.1, 12.3)."""
    text = f"{service.name} {service.image or ''}".lower()
    return any(word.lower() in text for word in words)
