"""The resolution guard: when the data cannot decide a threshold, the verdict is ``error``, never ``pass``.

Three ways data can be too coarse:
- a measured value known only to an interval (a histogram bucket, a client's rounding) that straddles
  the threshold;
- a window too short for the scrape interval to put enough samples in it;
- a scrape interval coarser than the timing a check has to resolve (e.g. a half-open tolerance).
"""

from __future__ import annotations

from typing import Literal

from harness.windows import Window

Comparator = Literal["<", "<=", ">", ">=", "=="]
COMPARATORS: tuple[Comparator, ...] = ("<", "<=", ">", ">=", "==")


def compare(value: float, comparator: Comparator, threshold: float) -> bool:
    match comparator:
        case "<":
            return value < threshold
        case "<=":
            return value <= threshold
        case ">":
            return value > threshold
        case ">=":
            return value >= threshold
        case "==":
            return value == threshold


def decide(comparator: Comparator, threshold: float, lower: float, upper: float) -> bool | None:
    """Whether every value in ``(lower, upper]`` meets the threshold (True), none does (False), or
    the interval straddles it (None: undecidable).

    Measured timings are continuous, so a value exactly on an interval's edge is taken to have
    probability zero: a p99 known to lie in the bucket ``(0.75, 1]`` meets ``< 1``. A point
    (``lower == upper``) is compared exactly.
    """
    if lower > upper:
        raise ValueError(f"empty interval ({lower}, {upper}]")
    if lower == upper:
        return compare(lower, comparator, threshold)
    match comparator:
        case "<" | "<=":
            return True if upper <= threshold else False if lower >= threshold else None
        case ">" | ">=":
            return True if lower >= threshold else False if upper <= threshold else None
        case "==":
            return False if threshold < lower or threshold > upper else None


def scrape_guard(
    window: Window, scrape_interval: float | None, min_scrapes: int, timing: float | None = None
) -> str | None:
    """Why the scrape interval cannot support a measurement over ``window``, or None if it can.

    ``timing`` is the finest time difference the check must resolve (e.g. a tolerance in seconds).
    """
    if scrape_interval is None:
        return "scrape interval unknown: neither Prometheus' targets nor slas.yaml defaults give it"
    if window.duration < min_scrapes * scrape_interval:
        return (
            f"window '{window.name}' of {window.duration:g} s holds fewer than {min_scrapes} scrapes "
            f"at a {scrape_interval:g} s scrape interval"
        )
    if timing is not None and scrape_interval > timing:
        return (
            f"scrape interval {scrape_interval:g} s is coarser than the {timing:g} s the check must resolve"
        )
    return None
