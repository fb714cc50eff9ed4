"""A scenario's abort conditions (slas.yaml ``scenarios.<name>.abort``): safeguards against a runaway breach.

As k6's ``abortOnFail`` and Chaos Toolkit's safeguards: while the fault is in force and during recovery, each
condition is polled; when one holds for its ``for`` duration, the fault is reverted at once and the scenario
ends as aborted (a failed verdict naming the condition), so that a fault that takes down what it must not
does not run its full window. Two kinds:

    abort:
      - name: ollama-errors               # a PromQL condition: any series of the answer meeting it
        promql: sum(rate(http_requests_total{service="ollama",status=~"5.."}[10s])) / sum(rate(http_requests_total{service="ollama"}[10s]))
        comparator: ">"
        threshold: 0.5
        for: 10s
      - name: host-memory                 # the harness host's available memory under a floor
        host_memory_below: 512m
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from harness.catalogue.reader import Fields, item_line
from harness.lint.units import parse_bytes

AbortComparator = Literal["<", "<=", ">", ">=", "==", "!="]
ABORT_COMPARATORS: tuple[AbortComparator, ...] = get_args(AbortComparator)
DEFAULT_RULE = "10.3"
"""A runaway breach is a failure that cascaded; a condition may name another rule."""


@dataclass(frozen=True, slots=True)
class AbortCondition:
    name: str
    rule: str
    hold: float
    """Seconds the condition must hold without a break before the scenario is aborted."""
    query: str = ""
    comparator: AbortComparator = ">"
    threshold: float = 0.0
    host_memory_below: int | None = None
    """Bytes: the condition is the harness host's MemAvailable under it (instead of a query)."""
    description: str = ""

    def describe(self) -> str:
        if self.host_memory_below is not None:
            text = f"host memory available < {self.host_memory_below / (1 << 20):.0f} MiB"
        else:
            text = f"{self.query} {self.comparator} {self.threshold:g}"
        return f"{self.name}: {text} for {self.hold:g} s"


def read_abort(node: Fields, read_rule: Callable[[Fields], str]) -> tuple[AbortCondition, ...]:
    """The scenario's ``abort`` list; ``read_rule`` validates an optional ``rule`` as objectives' rules are."""
    items = node.sequence("abort", [])
    conditions = []
    for index, item in enumerate(items):
        fields = Fields(item, f"{node.where}.abort[{index}]", node.path, item_line(items, index, node.line))
        conditions.append(_condition(fields, f"abort-{index + 1}", read_rule))
    names = [c.name for c in conditions]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise node.error("abort", f"two conditions are named {duplicate!r}")
    return tuple(conditions)


def _condition(fields: Fields, default_name: str, read_rule: Callable[[Fields], str]) -> AbortCondition:
    name = fields.string("name", default_name)
    rule = read_rule(fields) if fields.has("rule") else DEFAULT_RULE
    hold = fields.duration("for", 0.0, positive=False)
    description = fields.string("description", "")
    if fields.has("host_memory_below"):
        floor = _bytes(fields, "host_memory_below")
        fields.finish()
        return AbortCondition(name, rule, hold, host_memory_below=floor, description=description)
    query = fields.string("promql")
    comparator = fields.choice("comparator", ABORT_COMPARATORS)
    threshold = fields.number("threshold")
    fields.finish()
    return AbortCondition(name, rule, hold, query, comparator, threshold, description=description)


def _bytes(fields: Fields, key: str) -> int:
    raw = fields.raw(key)
    try:
        value = parse_bytes(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise fields.error(key, f"expected a size like 512m or 2g, got {raw!r}")
    return value
