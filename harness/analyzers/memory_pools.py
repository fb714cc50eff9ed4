"""Rule 1.3, memory pools: the containers of each pool together stay within its budget, and the
emergency reserve is never used.

Each container (the container exporter's ``container_memory_working_set_bytes``, by compose service)
draws from the pool ``pools`` lists it under, else the pool its ``pool_label`` names (the reference
stack's docker label ``sutazai.memory-pool``). At every scrape of the window:

1. every container draws from a pool with a budget (none, or an unknown pool: fail, naming it);
2. the working sets of each pool's containers, summed, are at most its budget;
3. the working sets of all containers, summed, are at most ``total - reserve``: the reserve is never
   used.

Budgets default to rule 1.3's, the lint's defaults (``harness.lint.config.DEFAULT_POOLS``; slas.yaml's
``pools:`` holds the same); sizes are read as the lint reads them (``12g``, ``1.38g``, ``800m``:
binary units, as Docker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.resources import COMPOSE_SERVICE, Grouped, mib, range_data, vector, when
from harness.lint.config import DEFAULT_POOLS
from harness.lint.units import parse_bytes
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Window

SizeMap = Mapping[str, frozenset[str]]
"""pool -> its size as one string (``{infrastructure: 12g}``): read by read_dataclass as a mapping of strings."""

RULE_RESERVE = next(p.budget for p in DEFAULT_POOLS if p.reserve)
RULE_BUDGETS = {p.name: p.budget for p in DEFAULT_POOLS if not p.reserve}


@dataclass(frozen=True, slots=True)
class MemoryPoolsParams:
    budgets: SizeMap | None = None
    reserve: str = str(RULE_RESERVE)
    total: str = ""
    pools: Mapping[str, frozenset[str]] | None = None
    pool_label: str = "container_label_sutazai_memory_pool"
    container_label: str = COMPOSE_SERVICE
    selector: str = ""
    working_set_metric: str = "container_memory_working_set_bytes"

    def __post_init__(self) -> None:
        for pool, sizes in (self.budgets or {}).items():
            if len(sizes) != 1:
                raise ValueError(f"budgets: pool {pool!r} needs exactly one size, like 12g")
        self.budget_bytes()
        self.reserve_bytes()
        self.total_bytes()

    def budget_bytes(self) -> dict[str, int]:
        if self.budgets is None:
            return dict(RULE_BUDGETS)
        return {pool: _size("budgets", next(iter(sizes))) for pool, sizes in self.budgets.items()}

    def reserve_bytes(self) -> int:
        return _size("reserve", self.reserve)

    def total_bytes(self) -> int:
        """The memory the pools divide: ``total``, or every budget plus the reserve."""
        if self.total:
            return _size("total", self.total)
        return sum(self.budget_bytes().values()) + self.reserve_bytes()

    @property
    def by(self) -> tuple[str, ...]:
        """One group per container (replicas are summed, not merged), with its pool label."""
        return (self.container_label, "name", self.pool_label)

    def query(self) -> str:
        present = f'{self.container_label}!=""'
        by = ", ".join(self.by)
        return f"max by ({by}) ({vector(self.working_set_metric, present, self.selector)})"


def _size(key: str, text: str) -> int:
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _gib(size: float) -> str:
    return f"{size / 1024**3:.3g} GiB"


def describe(p: MemoryPoolsParams) -> str:
    budgets = ", ".join(f"{pool} {_gib(size)}" for pool, size in p.budget_bytes().items())
    reserve = _gib(p.reserve_bytes())
    return f"each pool's working sets within its budget ({budgets}); the {reserve} reserve never used"


def run(context: AnalysisContext, params: MemoryPoolsParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    hint = "is the container exporter scraped?"
    data = range_data(recorder, context, threshold, {"usage": params.query()}, params.by, ("usage",), hint)
    if isinstance(data, Finding):
        return data
    containers = data["usage"]
    budgets = params.budget_bytes()
    members, checks = _assign(containers, params, budgets)
    figures: list[Figure] = []
    for pool, series in sorted(members.items()):
        summed = _summed(series)
        checks.append(_within(f"pool {pool}", summed, budgets[pool], "budget", context.window, figures))
    usable = params.total_bytes() - params.reserve_bytes()
    everything = _summed(list(containers.values()))
    checks.append(_within("all pools", everything, usable, "outside the reserve", context.window, figures))
    return conclude(checks, threshold, recorder.evidence(context, figures), "no container")


def _assign(
    containers: Grouped, p: MemoryPoolsParams, budgets: dict[str, int]
) -> tuple[dict[str, list[tuple[Sample, ...]]], list[Check]]:
    """Each container's series under its pool; a fail for each container in no pool with a budget."""
    listed = {service: pool for pool, services in (p.pools or {}).items() for service in services}
    members: dict[str, list[tuple[Sample, ...]]] = {}
    checks = []
    for key, samples in sorted(containers.items()):
        labels = dict(key)
        service = labels.get(p.container_label, "")
        pool = listed.get(service) or labels.get(p.pool_label) or ""
        if pool in budgets:
            members.setdefault(pool, []).append(samples)
        else:
            why = f"draws from pool {pool!r}, which has no budget" if pool else "draws from no pool"
            checks.append(Check(f"{service} pool", "fail", why))
    return members, checks


def _summed(series: list[tuple[Sample, ...]]) -> tuple[Sample, ...]:
    """The sum at each scrape instant of the series present at it (the range queries share their steps)."""
    total: dict[float, float] = {}
    for samples in series:
        for s in samples:
            total[s.t] = total.get(s.t, 0.0) + s.value
    return tuple(Sample(t, v) for t, v in sorted(total.items()))


def _within(
    name: str, summed: tuple[Sample, ...], budget: int, what: str, window: Window, figures: list[Figure]
) -> Check:
    """Whether the summed working sets stay within ``budget`` at every scrape; records the figures."""
    top = max(summed, key=lambda s: s.value)
    figures.append(Figure(f"peak[{name}]", top.value, "bytes"))
    figures.append(Figure(f"budget[{name}]", budget, "bytes"))
    detail = f"peak {mib(top.value)} of the {mib(budget)} {what} at {when(top.t, window)}"
    return Check(name, "pass" if top.value <= budget else "fail", detail)


ANALYZER = AnalyzerSpec("memory_pools", MemoryPoolsParams, run, describe)
