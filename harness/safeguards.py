"""Polling a scenario's abort conditions while its fault is in force and during recovery.

``Safeguard.check(now)`` is called by the runner about once a second; it returns the reason to abort once a
condition has held for its ``for`` duration without a break. A condition that cannot be read (Prometheus
gone) does not hold: a safeguard must not abort on missing data, and the judge reports the missing data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.analyzers.promql import decide_threshold
from harness.catalogue.abort import AbortCondition
from harness.errors import MeasurementError
from harness.metrics.port import MetricsSource


class ScenarioAborted(Exception):
    """An abort condition held: the scenario stops at once (its fault reverted on the way out)."""

    def __init__(self, condition: AbortCondition, detail: str) -> None:
        self.condition = condition
        self.detail = detail
        super().__init__(f"aborted by {condition.describe()}: {detail}")


def host_memory_available(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemAvailable of the harness host in bytes (Linux)."""
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise MeasurementError(f"{meminfo} has no MemAvailable line")


class Safeguard:
    def __init__(
        self,
        conditions: Sequence[AbortCondition],
        source: MetricsSource,
        memory_available: Callable[[], int] = host_memory_available,
    ) -> None:
        self.conditions = tuple(conditions)
        self.source = source
        self.memory_available = memory_available
        self._since: dict[str, float] = {}
        """Condition name -> when it started to hold without a break."""

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def check(self, now: float) -> None:
        """Raise ScenarioAborted when a condition has held for its duration; else remember what holds."""
        for condition in self.conditions:
            detail = self._holds(condition, now)
            if detail is None:
                self._since.pop(condition.name, None)
                continue
            since = self._since.setdefault(condition.name, now)
            if now - since >= condition.hold:
                raise ScenarioAborted(condition, f"{detail}, for {now - since:.0f} s")

    def _holds(self, condition: AbortCondition, now: float) -> str | None:
        """What was seen when the condition holds, else None."""
        if condition.host_memory_below is not None:
            available = self.memory_available()
            if available < condition.host_memory_below:
                return f"{available / (1 << 20):.0f} MiB available on the host"
            return None
        try:
            series = self.source.instant(condition.query, now)
        except MeasurementError:
            return None
        values = [s.samples[-1].value for s in series if s.samples and math.isfinite(s.samples[-1].value)]
        threshold = (condition.threshold,)
        meeting = [v for v in values if decide_threshold(condition.comparator, threshold, v, v)]
        if not meeting:
            return None
        return f"measured {max(meeting, key=abs):g} {condition.comparator} {condition.threshold:g}"
