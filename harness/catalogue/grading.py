"""slas.yaml's scoring keys: an objective's ``weight``, ``pass`` and ``warning`` criteria, and the top-level
``total_score`` (what they mean: ``harness.scoring``)."""

from __future__ import annotations

import math
import re
import typing
from typing import Any

from harness.analyzers.promql import PromqlParams
from harness.catalogue.model import CRITERION_COMPARATORS, Criterion, CriterionComparator, Grading, TotalScore
from harness.catalogue.reader import Fields, show

CRITERION_PATTERN = r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$"
"""A criterion: a comparator and a number, like ``<= 0.5``."""
_CRITERION = re.compile(CRITERION_PATTERN)
PERCENT_PATTERN = r"^\s*(\d+(\.\d+)?)\s*%\s*$"
_PERCENT = re.compile(PERCENT_PATTERN)
CRITERIA_KEYS = ("pass", "warning")


def read_grading(node: Fields, params: object) -> Grading:
    """An objective's weight and criteria; ``params`` are its measurement's (criteria need promql's)."""
    weight = node.number("weight", 1.0, minimum=0)
    pass_criteria, warning_criteria = (_criteria(node, key) for key in CRITERIA_KEYS)
    given = "pass" if pass_criteria else "warning" if warning_criteria else None
    if given and not isinstance(params, PromqlParams):
        # An analyzer's measured value is a worst percentile or a set of figures, known only to a
        # bucket: a criterion on it could not be decided honestly. Its verdict scores its weight.
        raise node.error(
            given,
            "criteria grade the measured number of a promql: objective; an analyzer's verdict scores its weight when it passes",
        )
    if warning_criteria and not pass_criteria:
        raise node.error(
            "warning",
            "warning criteria need pass criteria (a verdict meeting pass scores full weight, only warning half)",
        )
    rounding = params.rounding if isinstance(params, PromqlParams) else 0.0
    return Grading(weight, pass_criteria, warning_criteria, rounding)


def _criteria(node: Fields, key: str) -> tuple[Criterion, ...]:
    value = node.raw(key, None)
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list) or (not items and value is not None):
        raise node.error(key, f"expected a criterion like '<= 0.5', or a list of them, got {show(value)}")
    return tuple(_criterion(node, key, item) for item in items)


def _criterion(node: Fields, key: str, item: Any) -> Criterion:
    match = _CRITERION.match(item) if isinstance(item, str) else None
    if match is None or not math.isfinite(float(match.group(2))):
        comparators = " ".join(CRITERION_COMPARATORS)
        raise node.error(
            key, f"expected a comparator ({comparators}) and a number, like '<= 0.5', got {show(item)}"
        )
    return Criterion(typing.cast(CriterionComparator, match.group(1)), float(match.group(2)))


def read_total_score(top: Fields) -> TotalScore:
    node = top.mapping("total_score")
    if node is None:
        return TotalScore()
    pass_ = _fraction(node, "pass")
    warning = _fraction(node, "warning", pass_)
    if warning > pass_:
        raise node.error(
            "warning", f"{warning:.4g} is above pass {pass_:.4g}: a warning is a lower score than a pass"
        )
    node.finish()
    return TotalScore(pass_, warning, gate=True)


def _fraction(node: Fields, key: str, default: Any = None) -> float:
    """A fraction 0..1 (``0.9``) or a percentage (``90%``)."""
    value = node.raw(key) if default is None else node.raw(key, default)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if match and float(match.group(1)) <= 100:
        return float(match.group(1)) / 100
    raise node.error(key, f"expected a fraction from 0 to 1 or a percentage like 90%, got {show(value)}")
