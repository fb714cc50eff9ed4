"""Exit-code precedence and sub-check combination."""

from __future__ import annotations

import pytest

from harness.verdict import Evidence, Verdict, combine, exit_code


def verdict(status: str, severity: str = "gate", vid: str = "x") -> Verdict:
    return Verdict(vid, "8.1", "s", "fault", severity, status, None, "< 1 s", "why", Evidence())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([("pass", "gate")], 0),
        ([("pass", "gate"), ("fail", "warn"), ("error", "warn")], 0),
        ([("pass", "gate"), ("skipped", "gate")], 0),
        ([("pass", "gate"), ("fail", "gate")], 1),
        ([("pass", "gate"), ("error", "gate")], 2),
        ([("fail", "gate"), ("error", "gate")], 1),
        ([("error", "gate"), ("fail", "gate"), ("pass", "gate")], 1),
        ([("skipped", "gate")], 2),
        ([("pass", "warn")], 2),
        ([], 2),
    ],
)
def test_exit_code_precedence(statuses, code):
    assert exit_code([verdict(s, sev, f"v{i}") for i, (s, sev) in enumerate(statuses)]) == code


def test_an_incomplete_run_never_passes_but_a_failure_still_shows():
    passed = [verdict("pass", "gate", "a")]
    assert exit_code(passed, complete=False) == 2
    assert exit_code([*passed, verdict("fail", "gate", "b")], complete=False) == 1


@pytest.mark.parametrize(
    ("statuses", "combined"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "error"], "error"),
        (["error", "fail", "pass"], "fail"),
        (["skipped", "pass"], "pass"),
        (["skipped"], "skipped"),
        ([], "error"),
    ],
)
def test_combine(statuses, combined):
    assert combine(statuses) == combined
