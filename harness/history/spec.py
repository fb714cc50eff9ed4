"""slas.yaml's ``regression:`` of an objective: judge one of its figures against its own recent past."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Method = Literal["e_divisive", "prediction_interval"]
METHODS: tuple[Method, ...] = get_args(Method)
Worse = Literal["higher", "lower"]
WORSE: tuple[Worse, ...] = get_args(Worse)
SUFFIX = ":regression"
"""A regression verdict's id is its objective's and this."""
MIN_COMPARE_WITH: dict[Method, int] = {"e_divisive": 8, "prediction_interval": 3}
"""With fewer earlier values, E-Divisive's permutation test cannot call even a clean step over the last
three nights significant at 5%: a random order of n values puts that split at either end with
probability 2 / C(n, 3), 0.1 for n = 6, 0.024 for n = 9. The prediction interval needs a spread, so at
least 3 (2 degrees of freedom); it is the method for a short history (a new objective, a release gate
with a few runs behind it), E-Divisive the one for nightly series."""


@dataclass(frozen=True, slots=True)
class RegressionSpec:
    metric: str
    """The name of one of the objective's measured figures (``p99``, ``measured``, ...)."""
    compare_with: int = 10
    """How many earlier values (the latest runs that measured it) the newest is judged against."""
    method: Method = "e_divisive"
    worse: Worse = "higher"
    """Which way a step is a regression: ``higher`` for latencies and error rates, ``lower`` for rates."""

    def __post_init__(self) -> None:
        least = MIN_COMPARE_WITH[self.method]
        if self.compare_with < least:
            raise ValueError(
                f"compare_with: must be at least {least} for {self.method}, got {self.compare_with}"
            )

    def describe(self) -> str:
        return (
            f"no step to a {self.worse} {self.metric} beyond the noise of its last"
            f" {self.compare_with} values ({self.method})"
        )
