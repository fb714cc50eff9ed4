"""The recorded bring-up (rule 2.1): for each deployment phase, when the harness started it, when its health
gate passed, and when the engine says each of its containers started.

``Stack.up`` writes it, run.json keeps it (``bring_up``), the ``phased_deploy`` analyzer judges it. Plain data
without an engine, so the analyzer and the run record read it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

EPOCH_YEAR = 1970


@dataclass(frozen=True, slots=True)
class ContainerStart:
    """One container of a phase as the engine showed it at the phase's health gate."""

    service: str
    name: str
    started_at: float
    """The engine's ``State.StartedAt`` in unix seconds: the engine's word, not the harness's."""


@dataclass(frozen=True, slots=True)
class PhaseTiming:
    """How one phase went; wall-clock times so they compare with the engine's own timestamps."""

    phase: int
    services: tuple[str, ...]
    started_at: float
    healthy_at: float
    containers: tuple[ContainerStart, ...] = ()

    @property
    def seconds(self) -> float:
        return self.healthy_at - self.started_at


BringUp = tuple[PhaseTiming, ...]
"""The phases in the order they were brought up; empty when nothing was recorded."""


def engine_instant(text: str) -> float:
    """Docker's RFC 3339 time (``2026-11-30T01:02:03.123456789Z``) as unix seconds. Docker writes
    ``0001-01-01T00:00:00Z`` for a container that never started: refused, it is no instant."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.year < EPOCH_YEAR:
        raise ValueError(f"not a start time: {text!r}")
    return moment.timestamp()
