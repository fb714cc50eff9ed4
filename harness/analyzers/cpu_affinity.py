"""Rule 1.2, CPU affinity at run time: each container runs only on the cores its tier allows, as the engine
applied them (Docker's ``HostConfig.CpusetCpus``), not as a compose file asks.

The static lint (``python -m harness lint``, rule 1.2) judges the ``cpuset`` the compose files declare; this
judges the containers that run, with the lint's own rule (``harness.lint.rules.resources.tier_cores``): the
rule's ranges (infrastructure 0-3, critical 4-7, standard 8-11, for ``reference_cores`` 12) scaled down on a
smaller host, core c to c * host_cores // reference_cores (on 2 cores: infrastructure 0, critical 0-1,
standard 1). A tier without a range (monitoring, gateway) may use any core; a container without a tier label
is not judged (``skipped``), as the lint does not judge it either.

Series: ``container_spec_cpuset_cpus_info{cpus="0-1", pinned="true"|"false", <container labels>} 1`` (the
reference stack's container exporter: the cores a container may run on, an unpinned one every core of the
host) and ``machine_cpu_cores`` (cAdvisor's name; unless ``host_cores`` is given). cAdvisor exports no
cpuset: on a stack with only cAdvisor the verdict is ``error`` naming the missing series, never ``pass``.

Per container and per cpuset seen in the window (a ``docker update --cpuset-cpus`` mid-run shows as two):
pass when its cores lie within its tier's, fail naming the cores outside. An unpinned container of a tier
with a range runs on every core: within the tier's only if the host is that small; with ``require_pinned``
it fails whatever the host (the lint warns about a missing cpuset).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import COMPOSE_SERVICE, range_data, unjudged, vector
from harness.lint.config import LintConfig
from harness.lint.rules.resources import tier_cores
from harness.lint.units import format_cores, parse_cpuset
from harness.verdict import Check, Figure, Finding

_HINT = (
    "cAdvisor exports no cpuset; the container exporter of the reference stack does "
    "(stack/services/exporter): is it scraped, and does the selector match its containers?"
)


@dataclass(frozen=True, slots=True)
class CpuAffinityParams:
    tiers: Mapping[str, frozenset[str]] | None = None
    """tier -> its cores on a ``reference_cores`` host (``{critical: "4-7"}``); default the rule's."""
    reference_cores: int = 12
    host_cores: int | None = None
    """The engine's host's cores; None: ``cores_metric`` (the exporter reads the engine's NCPU)."""
    require_pinned: bool = False
    tier_label: str = "container_label_sutazai_tier"
    container_label: str = COMPOSE_SERVICE
    selector: str = ""
    cpuset_metric: str = "container_spec_cpuset_cpus_info"
    cores_metric: str = "machine_cpu_cores"

    def __post_init__(self) -> None:
        for tier, texts in (self.tiers or {}).items():
            for text in texts:
                try:
                    parse_cpuset(text)
                except ValueError as exc:
                    raise ValueError(f"tiers: tier {tier!r}: {exc}") from None
        if self.reference_cores < 1:
            raise ValueError("reference_cores: must be at least 1")
        if self.host_cores is not None and self.host_cores < 1:
            raise ValueError("host_cores: must be at least 1")

    def tier_map(self) -> dict[str, frozenset[int]]:
        if self.tiers is None:
            return dict(LintConfig().cpu_affinity)
        return {t: frozenset().union(*(parse_cpuset(x) for x in texts)) for t, texts in self.tiers.items()}

    @property
    def by(self) -> tuple[str, ...]:
        return (self.container_label, "name", self.tier_label, "cpus", "pinned")

    def query(self) -> str:
        present = f'{self.container_label}!=""'
        return f"max by ({', '.join(self.by)}) ({vector(self.cpuset_metric, present, self.selector)})"

    def cores_query(self) -> str:
        return f"max({self.cores_metric})"


def describe(p: CpuAffinityParams) -> str:
    tiers = ", ".join(f"{tier} {format_cores(cores)}" for tier, cores in p.tier_map().items())
    pinned = ", every container of a tier with cores pinned" if p.require_pinned else ""
    return (
        f"each container runs only on its tier's cores ({tiers} of {p.reference_cores}, scaled to the host "
        f"as the lint scales them; other tiers any core){pinned}"
    )


def run(context: AnalysisContext, params: CpuAffinityParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    data = range_data(recorder, context, threshold, {"cpus": params.query()}, params.by, ("cpus",), _HINT)
    if isinstance(data, Finding):
        return data
    containers = data["cpus"]
    host = params.host_cores or _host_cores(recorder, context, params)
    if host is None:
        detail = f"no {params.cores_metric} in window '{context.window.name}': give host_cores"
        return unjudged(recorder, context, threshold, [Check("host cores", "error", detail)])
    config = LintConfig(
        reference_cores=params.reference_cores, host_cores=host, cpu_affinity=params.tier_map()
    )
    checks: list[Check] = []
    figures = [Figure("host_cores", host)]
    for key in sorted(containers):
        labels = dict(key)
        name = key_text(tuple((k, v) for k, v in key if k in (params.container_label, "name")))
        checks.append(_judge(name, labels, params, config, host))
        cores = _cores(labels.get("cpus", ""))
        if cores is not None:
            figures.append(Figure(f"cores[{name}]", len(cores)))
    return conclude(checks, threshold, recorder.evidence(context, figures), "no container")


def _host_cores(recorder: Recorder, context: AnalysisContext, params: CpuAffinityParams) -> int | None:
    answer = recorder.range(params.cores_query(), context.window, context.step)
    values = [s.value for series in answer for s in series.finite()]
    return round(max(values)) if values and max(values) >= 1 else None


def _cores(text: str) -> frozenset[int] | None:
    try:
        return parse_cpuset(text)
    except ValueError:
        return None


def _judge(
    name: str, labels: Mapping[str, str], p: CpuAffinityParams, config: LintConfig, host: int
) -> Check:
    tier = labels.get(p.tier_label, "")
    cpus = labels.get("cpus", "")
    cores = _cores(cpus)
    if cores is None:
        return Check(name, "error", f"{p.cpuset_metric} says cpus={cpus!r}: not a cpuset")
    pinned = labels.get("pinned", "true") != "false"
    runs = f"runs on {'core' if len(cores) == 1 else 'cores'} {format_cores(cores)}" + (
        "" if pinned else " (not pinned: every core)"
    )
    if not tier:
        return Check(name, "skipped", f"{runs}; no tier label ({p.tier_label}): not judged, as the lint")
    if tier not in config.cpu_affinity:
        return Check(name, "pass", f"{runs}; tier {tier} may use any core")
    allowed = tier_cores(config, tier)
    expected = f"tier {tier} may use {format_cores(allowed)} on this {host}-core host"
    if not pinned and p.require_pinned:
        return Check(name, "fail", f"{runs}: {expected}, and require_pinned asks for a cpuset")
    outside = cores - allowed
    if outside:
        return Check(name, "fail", f"{runs}, {format_cores(outside)} outside its tier's: {expected}")
    return Check(name, "pass", f"{runs}, within its tier's: {expected}")


ANALYZER = AnalyzerSpec("cpu_affinity", CpuAffinityParams, run, describe)
