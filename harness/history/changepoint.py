"""Change-point detection on a short nightly series: is there a step the noise does not explain?

The statistics are MongoDB's E-Divisive with means (``signal_processing_algorithms``; see "The Use of
Change Point Detection to Identify Software Performance Regressions in a Continuous Integration
System", ICPE 2020): a permutation test on the energy statistic, so it makes no assumption about the
noise's distribution and reads the noise from the series itself. Only the glue is here: which step
counts (the latest one, the one the newest value sits behind) and the means on either side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

from scipy.stats import t
from signal_processing_algorithms.determinism import deterministic_numpy_random
from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive

from harness.history.spec import Method

PVALUE = 0.05
"""The permutation test's significance: at most this share of noise-only series show a step."""
PERMUTATIONS = 100
SEED = 1
"""The permutations are drawn from a fixed seed, so the same history always gives the same answer."""


@dataclass(frozen=True, slots=True)
class Step:
    """The latest change in a series: values from ``index`` on differ from the segment before it."""

    index: int
    before: float
    """The mean of the segment before the step (back to the change point before it, if any)."""
    after: float
    """The mean from the step to the newest value."""

    @property
    def change(self) -> float:
        """The relative change, after against before (``inf`` from a zero mean)."""
        if self.before == 0:
            return 0.0 if self.after == 0 else float("inf")
        return (self.after - self.before) / abs(self.before)


def _e_divisive(values: list[float]) -> list[int]:
    with deterministic_numpy_random(SEED):
        return list(e_divisive(values, pvalue=PVALUE, permutations=PERMUTATIONS))


def _prediction_interval(values: list[float]) -> list[int]:
    """The newest value is a step when it lies beyond the one-sided (1 - PVALUE) prediction bound of the
    values before it, on whichever side it fell: Student's t with n - 1 degrees of freedom, so the uncertain
    spread of a short history widens the bound instead of raising false alarms."""
    earlier, newest = values[:-1], values[-1]
    mean, spread = fmean(earlier), stdev(earlier)
    half_width = t.ppf(1 - PVALUE, len(earlier) - 1) * spread * math.sqrt(1 + 1 / len(earlier))
    return [len(earlier)] if abs(newest - mean) > half_width else []


_DETECTORS: dict[Method, Callable[[list[float]], list[int]]] = {
    "e_divisive": _e_divisive,
    "prediction_interval": _prediction_interval,
}
"""Each method: the indices where the series changes significantly (each the first value after)."""


def latest_step(values: Sequence[float], method: Method) -> Step | None:
    """The latest step the method finds significant in ``values`` (oldest first), or None."""
    if len(values) < 3 or max(values) == min(values):
        return None  # a constant series has no step, and the library divides by its spread
    points = sorted(_DETECTORS[method](list(values)))
    if not points:
        return None
    index = points[-1]
    start = points[-2] if len(points) > 1 else 0
    return Step(index, fmean(values[start:index]), fmean(values[index:]))
