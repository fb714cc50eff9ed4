"""Rule 4.1, model loading with pooling: each model pool stays within its budget and evicts (LRU) when
more models are asked for than fit, and its container is never OOM-killed.

Per pool (``by``, default the service label), over the window:

1. at every scrape the pool's usage (``usage_metric``) is at most the budget it reports (``limit_metric``;
   a budget of 0 or none: fail);
2. evictions: the models that fit are ``capacity = budget // model size`` (a model's size is usage /
   models at a scrape holding one); when the models resident at the start plus the loads in the window
   exceed it, ``evictions_metric`` (plus ``unloads_metric``, unloads that also make room) must have risen
   by at least the excess, else the pool grew past its budget or refused to load. A restarted process
   starts with an empty pool (``start_metric``, the process start time, changed): the excess is counted per
   process lifetime, the first one with the models resident at the start, the later ones from none. No
   load, or loads that fit: the check is ``skipped`` (not exercised);
3. no OOM event of the pool's container (``oom_metric``, the container whose ``container_label`` is the
   first ``by`` label's value; empty: not checked).

The agents' defaults judge ``agent_model_pool_*`` in bytes. The model server's pool is the same check in
models: ``usage_metric: ollama_loaded_models``, ``limit_metric: ollama_max_loaded_models``,
``models_metric: ollama_loaded_models``, ``loads_metric: ollama_model_loads_total``,
``evictions_metric: ollama_model_evictions_total``, ``unloads_metric: ollama_model_expirations_total``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import (
    COMPOSE_SERVICE,
    OOM_EVENTS,
    grouped,
    mib,
    oom_check,
    peak,
    range_data,
    rises,
    vector,
    when,
)
from harness.metrics.counters import value_at
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Window

Series = dict[str, tuple[Sample, ...]]


@dataclass(frozen=True, slots=True)
class ModelPoolParams:
    selector: str = ""
    by: tuple[str, ...] | None = None
    usage_metric: str = "agent_model_pool_bytes"
    limit_metric: str = "agent_model_pool_limit_bytes"
    models_metric: str = "agent_model_pool_models"
    loads_metric: str = "agent_model_pool_loads_total"
    evictions_metric: str = "agent_model_pool_evictions_total"
    unloads_metric: str = ""
    start_metric: str = "process_start_time_seconds"
    """The process's start time: where it changes, the process restarted with an empty pool (empty: never)."""
    oom_metric: str = OOM_EVENTS
    container_label: str = COMPOSE_SERVICE

    def queries(self, by: tuple[str, ...]) -> dict[str, str]:
        group = ", ".join(by)
        metrics = {
            "usage": self.usage_metric,
            "limit": self.limit_metric,
            "models": self.models_metric,
            "loads": self.loads_metric,
            "evictions": self.evictions_metric,
            "unloads": self.unloads_metric,
            "starts": self.start_metric,
        }
        own = {name: f"max by ({group}) ({vector(m, self.selector)})" for name, m in metrics.items() if m}
        if not self.oom_metric:
            return own
        container = self.container_label
        present = container + '!=""'
        return {**own, "oom": f"max by ({container}) ({vector(self.oom_metric, present)})"}


def describe(p: ModelPoolParams) -> str:
    oom = ", no OOM kill" if p.oom_metric else ""
    return (
        f"{p.usage_metric} within {p.limit_metric} at every scrape, LRU evictions when loads exceed it{oom}"
    )


def run(context: AnalysisContext, params: ModelPoolParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    by = context.group_by(params.by)
    queries = params.queries(by)
    own = {name: q for name, q in queries.items() if name != "oom"}
    hint = "does the selector match the pools?"
    data = range_data(recorder, context, threshold, own, by, ("usage",), hint)
    if isinstance(data, Finding):
        return data
    ooms = grouped(recorder, context, queries["oom"], (params.container_label,)) if "oom" in queries else {}
    checks: list[Check] = []
    figures: list[Figure] = []
    for key in sorted(data["usage"]):
        pool = _Pool(key_text(key), {name: data[name].get(key, ()) for name in data}, params, context.window)
        checks.extend([pool.budget(), pool.evictions()])
        if "oom" in queries:
            container = ((params.container_label, key[0][1]),) if key else ()
            checks.append(oom_check(pool.name, ooms.get(container, ()), context.window, params.oom_metric))
        figures.extend(pool.figures)
    plot = recorder.range(queries["usage"], context.window, context.step)
    return conclude(checks, threshold, recorder.evidence(context, figures, plot), "no pool")


def _amount(value: float) -> str:
    """Bytes as MiB, counts (of models) as they are."""
    return mib(value) if value >= 1024**2 else f"{value:g}"


class _Pool:
    """The checks of one pool; collects its figures on the way."""

    def __init__(self, name: str, data: Series, params: ModelPoolParams, window: Window) -> None:
        self.name, self.data, self.p, self.window = name, data, params, window
        self.figures: list[Figure] = []

    def figure(self, what: str, value: float) -> None:
        self.figures.append(Figure(f"{what}[{self.name}]", value))

    def budget(self) -> Check:
        name, usage, limit = f"{self.name} budget", self.data["usage"], self.data["limit"]
        if not limit:
            return Check(name, "error", f"no {self.p.limit_metric}: the pool's budget cannot be read")
        if any(s.value <= 0 for s in limit):
            return Check(name, "fail", f"no budget ({self.p.limit_metric} 0)")
        over = [s for s in usage if s.value > (value_at(limit, s.t) or limit[0].value)]
        top = peak(over or usage)
        allowed = value_at(limit, top.t) or limit[0].value
        self.figure("peak_usage", top.value)
        self.figure("budget", allowed)
        detail = f"{_amount(top.value)} of a {_amount(allowed)} budget at {when(top.t, self.window)}"
        if over:
            return Check(name, "fail", f"over budget at {len(over)} scrape(s): {detail}")
        return Check(name, "pass", f"at most {detail}")

    def evictions(self) -> Check:
        name, d, p = f"{self.name} evictions", self.data, self.p
        absent = [
            m for m, k in ((p.loads_metric, "loads"), (p.evictions_metric, "evictions")) if not d.get(k)
        ]
        if absent or not d.get("models") or not d["limit"]:
            what = ", ".join(absent) or f"{p.models_metric} or {p.limit_metric}"
            return Check(name, "error", f"no {what}: evictions cannot be judged")
        loads = sum(s.value for s in rises(d["loads"]))
        made_room = sum(s.value for s in rises(d["evictions"]) + rises(d.get("unloads", ())))
        self.figure("loads", loads)
        self.figure("evictions", made_room)
        sizes = [u.value / m for u in d["usage"] if (m := value_at(d["models"], u.t) or 0) > 0]
        if loads == 0 or not sizes:
            why = "no model loaded" if loads == 0 else f"{loads:g} loads but no model resident at a scrape"
            return Check(name, "skipped", f"{why} in the window: eviction not exercised")
        capacity = math.floor(min(s.value for s in d["limit"]) / max(sizes) + 1e-9)
        resident = d["models"][0].value
        lifetimes = _lifetimes(d["loads"], d.get("starts", ()))
        # Each later lifetime starts empty, and its first sample counts the loads since its start.
        excess = sum(
            max(0.0, (resident if i == 0 else part[0].value) + sum(r.value for r in rises(part)) - capacity)
            for i, part in enumerate(lifetimes)
        )
        self.figure("capacity", capacity)
        asked = f"{resident:g} resident + {loads:g} loads into a pool of {capacity} model(s)"
        if len(lifetimes) > 1:
            asked += f" over {len(lifetimes)} process lifetimes (a restart empties the pool)"
        if excess <= 0:
            return Check(name, "skipped", f"{asked}: they fit, eviction not exercised")
        if made_room >= excess:
            return Check(name, "pass", f"{asked}: {made_room:g} evicted")
        return Check(name, "fail", f"{asked} needed {excess:g} eviction(s), saw {made_room:g}")


def _lifetimes(loads: Sequence[Sample], starts: Sequence[Sample]) -> list[tuple[Sample, ...]]:
    """The loads counter cut where the process start time changed: one part per process lifetime."""
    parts: list[list[Sample]] = []
    last: float | None = None
    for sample in loads:
        started = value_at(starts, sample.t)
        if not parts or (started is not None and last is not None and started != last):
            parts.append([])
        parts[-1].append(sample)
        last = started if started is not None else last
    return [tuple(part) for part in parts]


ANALYZER = AnalyzerSpec("model_pool", ModelPoolParams, run, describe)
