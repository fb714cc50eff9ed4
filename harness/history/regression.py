"""An objective's regression verdict: one figure judged against its own last N values.

The verdict ``<objective>:regression`` stands beside the threshold verdict, which stays as it is. It
fails when the change-point method finds a step to the worse in the series of the N earlier values and
this run's, with this run behind the step: a step is a regression even while under the threshold,
while a change the noise of those runs explains is not. Fewer than N earlier values: ``skipped``,
never ``pass``; no value this run to compare: ``skipped`` when the threshold verdict could not measure
(it says why), ``error`` when the figure named does not exist (a mistake in slas.yaml).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean, stdev

from harness.catalogue.model import Objective
from harness.history.changepoint import Step, latest_step
from harness.history.figures import verdict_figures
from harness.history.spec import SUFFIX, RegressionSpec
from harness.history.store import Value
from harness.metrics.port import Sample, Series
from harness.verdict import Check, Evidence, Figure, Status, Verdict

MEASURED_STATUSES = ("pass", "fail")
"""Only a verdict that measured its figures honestly adds a value to the series."""


def regression_verdict(
    objective: Objective,
    spec: RegressionSpec,
    verdict: Verdict,
    earlier: Sequence[Value],
    now: float,
    unreadable: str | None = None,
) -> Verdict:
    """The regression verdict of ``verdict`` (the objective's threshold verdict in one scenario), from
    the figure's ``earlier`` values (oldest first, any status) and this run's time ``now``; with
    ``unreadable``, the history could not be read: an error saying why."""
    figures = {f.name: f for f in verdict_figures(verdict)}
    current = figures.get(spec.metric)
    if verdict.status not in MEASURED_STATUSES:
        why = f"no {spec.metric} to compare: the verdict is {verdict.status}"
        return _verdict(objective, spec, verdict, "skipped", why)
    if unreadable:
        return _verdict(objective, spec, verdict, "error", f"the history cannot be read: {unreadable}")
    if current is None or not math.isfinite(current.value):
        known = ", ".join(figures) or "none"
        why = f"no finite figure '{spec.metric}' this run (its figures: {known})"
        return _verdict(objective, spec, verdict, "error", why)
    usable = [v for v in earlier if v.status in MEASURED_STATUSES and math.isfinite(v.value)]
    usable = usable[-spec.compare_with :]
    if len(usable) < spec.compare_with:
        why = f"only {len(usable)} earlier values of {spec.metric} in the history; it compares with {spec.compare_with}"
        return _verdict(objective, spec, verdict, "skipped", why)
    series = [v.value for v in usable] + [current.value]
    step = latest_step(series, spec.method)
    status, reason = _judge(spec, usable, current, step)
    samples = Series(
        (("figure", spec.metric),),
        (*(Sample(v.run.time, v.value) for v in usable), Sample(now, current.value)),
    )
    measured = (
        current,
        Figure("earlier_mean", fmean(series[:-1]), current.unit),
        Figure("change", (step or Step(len(usable), fmean(series[:-1]), current.value)).change),
    )
    return _verdict(objective, spec, verdict, status, reason, measured, samples)


def _judge(
    spec: RegressionSpec, usable: Sequence[Value], current: Figure, step: Step | None
) -> tuple[Status, str]:
    values = [v.value for v in usable]
    if step is None:
        mean = fmean(values)
        spread = stdev(values) / abs(mean) if mean else 0.0
        return "pass", (
            f"{spec.metric} {current.value:g} is within the noise of its last {len(values)} values"
            f" (mean {mean:g}, coefficient of variation {spread:.1%})"
        )
    where = "this run" if step.index == len(values) else f"run {usable[step.index].run.run_id}"
    moved = f"{spec.metric} stepped from {step.before:g} to {step.after:g} ({step.change:+.1%}) at {where}"
    worse = step.after > step.before if spec.worse == "higher" else step.after < step.before
    if worse:
        return "fail", f"{moved}: beyond the noise of its last {len(values)} values ({spec.method})"
    return "pass", f"{moved}: a change for the better ({spec.method})"


def _verdict(
    objective: Objective,
    spec: RegressionSpec,
    verdict: Verdict,
    status: Status,
    reason: str,
    measured: tuple[Figure, ...] | None = None,
    samples: Series | None = None,
) -> Verdict:
    evidence = Evidence(
        window=verdict.evidence.window,
        phases=verdict.evidence.phases,
        figures=measured or (),
        checks=(Check(spec.metric, status, reason),),
        samples=(samples,) if samples else (),
    )
    return Verdict(
        id=objective.id + SUFFIX,
        rule=objective.rule,
        scenario=verdict.scenario,
        window=verdict.window,
        severity=objective.severity,
        status=status,
        measured=measured,
        threshold=spec.describe(),
        reason=reason,
        evidence=evidence,
        description=objective.description,
    )
