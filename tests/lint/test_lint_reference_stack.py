"""The reference stack lints clean, and each mutant that breaks a statically visible rule is caught by it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _lint_support import REPO

from harness.lint.config import load_config
from harness.lint.engine import lint_model
from harness.lint.findings import Report, Severity
from harness.lint.loader import load_compose

STACK = REPO / "stack" / "compose.yml"
MUTANTS = REPO / "stack" / "mutants"
SECTIONS = Path(__file__).with_name("reference_slas.yaml")  # the pools: and lint: sections of slas.yaml

pytestmark = pytest.mark.skipif(not STACK.is_file(), reason="stack/compose.yml is absent")


def _lint(*files: Path, slas: Path = SECTIONS) -> Report:
    config = load_config(slas).resolved()
    return lint_model(load_compose([str(f) for f in files], {}, config), config)


def _errors(report: Report) -> set[tuple[str, str]]:
    return {
        (f.rule, f.service) for f in report.findings if f.severity is Severity.ERROR and f.suppressed is None
    }


def test_reference_stack_lints_clean() -> None:
    report = _lint(STACK)
    assert _errors(report) == set()
    assert report.exit_code == 0
    # the one warning says that plain Compose ignores restart_policy delay/window
    assert {f.rule for f in report.findings} <= {"2.3"}


@pytest.mark.parametrize(
    ("mutant", "caught"),
    [
        ("restart-always", {("2.3", "agent-summarizer")}),
        ("restart-unbounded", {("2.3", "agent-summarizer")}),
        ("no-memory-limit", {("1.1", "agent-summarizer")}),
        ("ollama-parallel-8", {("12.1", "ollama")}),
        ("agent-published-port", {("3.2", "agent-indexer"), ("9.1", "agent-indexer")}),
    ],
)
def test_static_mutants_are_caught_by_their_rule(mutant: str, caught: set[tuple[str, str]]) -> None:
    path = MUTANTS / f"{mutant}.yml"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    assert _errors(_lint(STACK, path)) == caught


def test_runtime_only_mutants_lint_clean() -> None:
    static = {
        "restart-always",
        "restart-unbounded",
        "no-memory-limit",
        "ollama-parallel-8",
        "ollama-loaded-2",
        "cpuset-wrong-tier",
        "agent-published-port",
    }
    for path in sorted(MUTANTS.glob("*.yml")):
        if path.stem not in static:
            assert _errors(_lint(STACK, path)) == set(), path.name


def test_the_repository_slas_yaml_when_it_carries_the_lint_section() -> None:
    slas = REPO / "slas.yaml"
    if not slas.is_file() or "lint" not in (yaml.safe_load(slas.read_text()) or {}):
        pytest.skip("slas.yaml has no lint: section yet")
    assert _errors(_lint(STACK, slas=slas)) == set()
