"""Rule 2.1, phased deployment: the stack came up phase by phase, each phase only once the one before it was
healthy, and no phase held more services than its cap (15 / 25 / 70).

Judged from the run's recorded bring-up (``context.bring_up``, harness/bringup.py, run.json ``bring_up``),
not from Prometheus: the bring-up is over before the first scrape of any scenario.

1. every recorded phase is one of the rule's three, in order;
2. per phase, its containers (every replica counts) at most its cap;
3. per phase after the first: the harness started it after the previous phase's health gate passed, and
   the engine started none of its containers before that (a container Compose pulled in early as a
   dependency of an earlier phase shows there). A container already running when the bring-up began (a kept
   stack) was not deployed by this run and is not judged; when that is every container, the verdict is
   ``skipped``, never ``pass``. No recorded bring-up: ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, conclude
from harness.bringup import ContainerStart, PhaseTiming
from harness.verdict import Check, Evidence, Figure, Finding, Status
from harness.windows import Seconds

NO_RECORD = (
    "no recorded bring-up: this run did not bring the stack up through the harness, or its run.json "
    "comes from a harness that did not record one"
)


@dataclass(frozen=True, slots=True)
class PhasedDeployParams:
    phase_1_max: int = 15
    phase_2_max: int = 25
    phase_3_max: int = 70
    clock_tolerance: Seconds = 0.5
    """How far the engine's clock (container start times) may trail the harness's (phase instants)."""

    def __post_init__(self) -> None:
        if min(self.phase_1_max, self.phase_2_max, self.phase_3_max) < 1:
            raise ValueError("phase_N_max: each phase must allow at least one service")
        if self.clock_tolerance < 0:
            raise ValueError("clock_tolerance: must not be negative")

    @property
    def caps(self) -> dict[int, int]:
        return {1: self.phase_1_max, 2: self.phase_2_max, 3: self.phase_3_max}


def describe(p: PhasedDeployParams) -> str:
    return (
        "phase by phase, each started once the previous was healthy; at most "
        f"{p.phase_1_max} / {p.phase_2_max} / {p.phase_3_max} services in phases 1 / 2 / 3"
    )


def run(context: AnalysisContext, params: PhasedDeployParams) -> Finding:
    threshold = describe(params)
    evidence = Evidence(window=context.window, phases=context.timeline.phases)
    phases = context.bring_up
    if not phases:
        return Finding("error", None, threshold, NO_RECORD, evidence)
    began = phases[0].started_at - params.clock_tolerance
    deployed = [c for p in phases for c in p.containers if c.started_at >= began]
    if not deployed:
        reason = (
            "every container was already running when the bring-up began (a stack kept up from before): "
            "this run deployed nothing whose phases could be judged; take the stack down first"
        )
        return Finding("skipped", None, threshold, reason, evidence)
    checks = [_order(phases, params)]
    figures: list[Figure] = []
    for previous, phase in zip((None, *phases), phases, strict=False):
        checks.append(_cap(phase, params))
        figures += [
            Figure(f"services[phase {phase.phase}]", len(phase.containers)),
            Figure(f"seconds[phase {phase.phase}]", round(phase.seconds, 3), "s"),
        ]
        if previous is not None:
            checks.append(_gate(previous, phase, began, params.clock_tolerance))
    figures.append(Figure("deployed_containers", len(deployed)))
    return conclude(checks, threshold, replace(evidence, figures=tuple(figures)), "no phase")


def _order(phases: tuple[PhaseTiming, ...], params: PhasedDeployParams) -> Check:
    numbers = [p.phase for p in phases]
    unknown = [n for n in numbers if n not in params.caps]
    if unknown:
        return Check("phases", "fail", f"phase {unknown[0]} is not one of rule 2.1's three phases (1, 2, 3)")
    if numbers != sorted(set(numbers)):
        return Check("phases", "fail", f"brought up in the order {numbers}, not phase by phase")
    return Check("phases", "pass", f"phases {', '.join(map(str, numbers))} in order")


def _cap(phase: PhaseTiming, params: PhasedDeployParams) -> Check:
    name = f"phase {phase.phase} size"
    cap = params.caps.get(phase.phase)
    missing = sorted(set(phase.services) - {c.service for c in phase.containers})
    if missing:
        return Check(name, "error", f"no container recorded for {', '.join(missing)}: its size is unknown")
    count = len(phase.containers)
    if cap is None:
        return Check(name, "skipped", f"{count} services: no cap, the phase is not one of the rule's")
    status: Status = "pass" if count <= cap else "fail"
    return Check(name, status, f"{count} services ({', '.join(phase.services)}), at most {cap} allowed")


def _gate(previous: PhaseTiming, phase: PhaseTiming, began: float, tolerance: float) -> Check:
    name = f"phase {phase.phase} gate"
    gate = previous.healthy_at
    if phase.started_at < gate:
        return Check(
            name,
            "fail",
            f"started {gate - phase.started_at:.1f} s before phase {previous.phase} was healthy",
        )
    early = [c for c in phase.containers if began <= c.started_at < gate - tolerance]
    if early:
        return Check(name, "fail", "; ".join(_early(c, previous.phase, gate) for c in early))
    judged = [c for c in phase.containers if c.started_at >= began]
    if not judged:
        return Check(name, "skipped", "every container already running before the bring-up: not judged")
    kept = len(phase.containers) - len(judged)
    note = f" ({kept} already running before the bring-up, not judged)" if kept else ""
    return Check(
        name,
        "pass",
        f"{len(judged)} containers started {min(c.started_at for c in judged) - gate:.1f} s or more after "
        f"phase {previous.phase} was healthy{note}",
    )


def _early(container: ContainerStart, previous: int, gate: float) -> str:
    return (
        f"{container.service} ({container.name}) started {gate - container.started_at:.1f} s before phase "
        f"{previous} was healthy"
    )


ANALYZER = AnalyzerSpec("phased_deploy", PhasedDeployParams, run, describe)
