"""The named figures of a verdict, as the history keeps them and the regression check reads them."""

from __future__ import annotations

from harness.verdict import Figure, Verdict

MEASURED = "measured"
"""The name of a verdict's single measured number (a ``promql:`` objective's worst series, say)."""


def verdict_figures(verdict: Verdict) -> tuple[Figure, ...]:
    """Every named figure of the verdict's evidence and measured value, each name once; a single
    measured number is the figure ``measured``."""
    named: dict[str, Figure] = {f.name: f for f in verdict.evidence.figures}
    if isinstance(verdict.measured, tuple):
        named.update((f.name, f) for f in verdict.measured)
    elif verdict.measured is not None:
        named[MEASURED] = Figure(MEASURED, verdict.measured)
    return tuple(named.values())
