"""A load that lost workers mid-scenario: the client-side verdicts it voids.

From the moment a Locust worker died, the load was short of its users and the client-side series (the
``locust_*`` ones the load pushes) count only what the rest sent: a latency or error objective judged on
them would pass or fail on a load the scenario never asked for. So every objective that reads those
series, in every window that ends after the loss, becomes ``error`` naming the worker; objectives on the
server's own series keep their verdicts (the stack was measured as it was).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from harness.catalogue.model import Catalogue, Objective
from harness.load.driver import LostWorker
from harness.verdict import Verdict
from harness.windows import ScenarioTimeline

CLIENT_SERIES = "locust_"
"""The prefix of every series the load pushes (load/pushmetrics.py)."""


def reads_client_series(objective: Objective) -> bool:
    """Whether the objective's query or analyzer parameters name a client-side series."""
    return any(CLIENT_SERIES in text for text in _texts(objective.measurement.params))


def void_client_side(
    verdicts: Sequence[Verdict],
    catalogue: Catalogue,
    timeline: ScenarioTimeline,
    lost: Sequence[LostWorker],
) -> tuple[Verdict, ...]:
    """``verdicts`` with those of client-side objectives whose window ends after the first loss as ``error``."""
    if not lost:
        return tuple(verdicts)
    first = min(lost, key=lambda loss: loss.since)
    losses = "; ".join(loss.describe() for loss in lost)
    objectives = {o.id: o for o in catalogue.objectives}
    result = []
    for verdict in verdicts:
        objective = objectives.get(verdict.id)
        window = timeline.window(verdict.window)  # type: ignore[arg-type]
        if (
            objective is not None
            and verdict.status != "skipped"
            and window is not None
            and window.end > first.since
            and reads_client_series(objective)
        ):
            reason = f"the load lost part of itself in this window ({losses}): client-side figures are short"
            verdict = dataclasses.replace(verdict, status="error", measured=None, reason=reason)
        result.append(verdict)
    return tuple(result)


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _texts(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
