"""The run's total score, as Keptn's quality gates compute it: each verdict scores its objective's weight
when it passes (and meets the objective's pass criteria), half when a passing verdict meets only the
warning criteria, else 0. The total is the sum over the sum of the weights; skipped verdicts are left
out, and an error scores 0 (not knowing must never raise the score). The total is graded against
slas.yaml ``total_score``: pass, warning or fail.

Criteria grade a passing verdict; they never rescue a failed one: the objective's threshold stays its
hard limit. A criterion the measured value's precision (``rounding``) cannot decide is not met.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from harness.analyzers.promql import decide_threshold
from harness.catalogue.model import Catalogue, Criterion, Grading, TotalScore
from harness.history.spec import SUFFIX
from harness.verdict import Status, Verdict

Grade = Literal["pass", "warning", "fail", "skipped"]
ScoreResult = Literal["pass", "warning", "fail"]
_SHARE: dict[Grade, float] = {"pass": 1.0, "warning": 0.5, "fail": 0.0, "skipped": 0.0}


@dataclass(frozen=True, slots=True)
class Part:
    """One verdict's share of the score."""

    id: str
    scenario: str
    window: str
    status: Status
    weight: float
    grade: Grade
    reason: str

    @property
    def score(self) -> float:
        return self.weight * _SHARE[self.grade]

    @property
    def possible(self) -> float:
        return 0.0 if self.grade == "skipped" else self.weight


@dataclass(frozen=True, slots=True)
class Tally:
    """What a set of parts achieved out of what it could have."""

    achieved: float
    possible: float

    @property
    def total(self) -> float | None:
        """The fraction achieved; None when nothing counted (every verdict skipped, or weight 0)."""
        return self.achieved / self.possible if self.possible > 0 else None


@dataclass(frozen=True, slots=True)
class Score:
    parts: tuple[Part, ...]
    limits: TotalScore

    def tally(self, scenario: str | None = None) -> Tally:
        chosen = [p for p in self.parts if scenario is None or p.scenario == scenario]
        return Tally(sum(p.score for p in chosen), sum(p.possible for p in chosen))

    def scenarios(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.scenario for p in self.parts))

    @property
    def result(self) -> ScoreResult | None:
        total = self.tally().total
        if total is None:
            return None
        if _reaches(total, self.limits.pass_):
            return "pass"
        return "warning" if _reaches(total, self.limits.warning) else "fail"


def _reaches(total: float, limit: float) -> bool:
    # 9 of 10 must reach 90% although 9/10 and 0.9 may differ in the last bit.
    return total >= limit or math.isclose(total, limit, rel_tol=1e-9)


def score_run(verdicts: Sequence[Verdict], catalogue: Catalogue) -> Score:
    """Every verdict, scored. A regression verdict (``<id>:regression``) counts as a part of its objective,
    with its weight but not its criteria (they grade the objective's own measured value): a drift that the
    objective's history shows lowers the score while its threshold still holds. A verdict of no objective (a
    scenario's abort) counts with the default weight, so an aborted scenario is never a full score."""
    grading = {o.id: o.grading for o in catalogue.objectives}

    def grading_of(verdict: Verdict) -> Grading:
        if verdict.id in grading:
            return grading[verdict.id]
        own = grading.get(verdict.id.removesuffix(SUFFIX))
        return Grading(weight=own.weight) if own else Grading()

    return Score(tuple(grade(v, grading_of(v)) for v in verdicts), catalogue.total_score)


def grade(verdict: Verdict, grading: Grading) -> Part:
    def part(result: Grade, reason: str) -> Part:
        return Part(
            verdict.id, verdict.scenario, verdict.window, verdict.status, grading.weight, result, reason
        )

    if verdict.status == "skipped":
        return part("skipped", "skipped: left out of the total")
    if verdict.status == "error":
        return part("fail", "could not be measured: an error scores 0")
    if verdict.status == "fail":
        return part("fail", "the verdict failed its threshold")
    if not grading.pass_criteria:
        return part("pass", "passed")
    value = verdict.measured if isinstance(verdict.measured, float) else None
    shown = "no single measured value" if value is None else f"{value:g}"
    if _meets(grading.pass_criteria, value, grading.rounding):
        return part("pass", f"{shown} meets pass {_text(grading.pass_criteria)}")
    missed = f"{shown} misses pass {_text(grading.pass_criteria)}"
    if grading.warning_criteria and _meets(grading.warning_criteria, value, grading.rounding):
        return part("warning", f"{missed}, meets warning {_text(grading.warning_criteria)}")
    if grading.warning_criteria:
        missed += f" and warning {_text(grading.warning_criteria)}"
    return part("fail", missed)


def _meets(criteria: tuple[Criterion, ...], value: float | None, rounding: float) -> bool:
    return value is not None and all(
        decide_threshold(c.comparator, (c.bound,), value - rounding, value + rounding) is True
        for c in criteria
    )


def _text(criteria: tuple[Criterion, ...]) -> str:
    return " and ".join(c.text() for c in criteria)


def scored_exit_code(code: int, score: Score | None) -> int:
    """The exit code with the score applied: only a ``total_score`` given in slas.yaml gates, and only
    an exit 0 changes (to 1 when the score fails, to 2 when nothing could be scored): a verdict that
    failed (1) or could not be measured (2) already says more than the score."""
    if score is None or not score.limits.gate or code != 0:
        return code
    result = score.result
    return 2 if result is None else 1 if result == "fail" else 0


def percent(fraction: float) -> str:
    return f"{100 * fraction:.4g}%"


def tally_text(tally: Tally) -> str:
    """``87.5% (7 of 8)``; ``- (0 of 0)`` when nothing counted."""
    total = "-" if tally.total is None else percent(tally.total)
    return f"{total} ({tally.achieved:g} of {tally.possible:g})"


def result_text(score: Score) -> str:
    """``warning (pass 90%, warning 75%, gates the exit code)``."""
    limits = score.limits
    gate = "gates the exit code" if limits.gate else "reported only: no total_score in slas.yaml"
    result = score.result or "nothing to score"
    return f"{result} (pass {percent(limits.pass_)}, warning {percent(limits.warning)}, {gate})"
