"""`make mutants`' table: a mutant is caught only when its declared checks failed with the declared exit
code and the lint found its declared rules; other failures are shown beside, not counted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "mutant_matrix", Path(__file__).resolve().parents[2] / "stack" / "mutants" / "matrix.py"
)
assert SPEC is not None and SPEC.loader is not None
matrix = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = matrix  # its dataclasses look their module up there
SPEC.loader.exec_module(matrix)


def outcome(name: str, checks: list[str], statuses: dict[str, str], exit_code: int | None, **kw: object):
    result = matrix.Outcome(name, "redis-pause" if checks else None, checks, [], **kw)
    result.statuses, result.exit_code = statuses, exit_code
    return result


def test_caught_by_its_own_check_with_another_failure_shown_beside() -> None:
    o = outcome("off", ["breaker-redis"], {"breaker-redis": "fail", "no-cascade": "fail", "x": "pass"}, 1)
    assert o.caught
    assert "| off | clean | redis-pause | breaker-redis *, no-cascade | 1 | yes |" in matrix._table([o])


def test_not_caught_when_its_check_passed_or_the_exit_code_differs() -> None:
    passed = outcome("a", ["breaker-redis"], {"breaker-redis": "pass", "no-cascade": "fail"}, 1)
    wrong_exit = outcome("b", ["breaker-redis"], {"breaker-redis": "fail"}, 2)
    assert not passed.caught and not wrong_exit.caught
    table = matrix._table([passed, wrong_exit])
    assert "| a | clean | redis-pause | no-cascade, breaker-redis * (not failed) | 1 | NO |" in table
    assert "| b | clean | redis-pause | breaker-redis * | 2 | NO |" in table


def test_a_mutant_without_a_declared_check_is_a_gap_not_a_catch() -> None:
    o = outcome("logs", [], {}, None)
    assert not o.caught
    assert "| logs | clean | - | - | - | no check yet |" in matrix._table([o])


def test_the_lint_must_find_every_declared_rule() -> None:
    o = matrix.Outcome("cpuset", None, [], ["1.2"], lint_found={"1.2", "2.3"})
    assert o.caught
    assert "| cpuset | 1.2 *, 2.3 | - | - | - | yes |" in matrix._table([o])
    o.lint_found = {"2.3"}
    assert not o.caught
