"""Arithmetic over sampled series: the value at an instant, a counter's increase over an interval."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from harness.metrics.port import Sample


def value_at(samples: Sequence[Sample], t: float) -> float | None:
    """The latest value at or before ``t``, None if there is none."""
    found = None
    for sample in samples:
        if sample.t > t:
            break
        found = sample.value
    return found


def increase(samples: Sequence[Sample], start: float, end: float) -> float | None:
    """How much a counter grew over ``[start, end]``, counting from the last sample at or before
    ``start``; a drop is a counter reset (the process restarted), counted as growth from zero.
    None when no sample at all falls in the interval or before it."""
    before = [s for s in samples if s.t <= start]
    inside = [s for s in samples if start < s.t <= end]
    points = ([before[-1]] if before else []) + inside
    if not points:
        return None
    total = 0.0
    for previous, current in itertools.pairwise(points):
        total += current.value - previous.value if current.value >= previous.value else current.value
    return total
