"""phased_deploy (rule 2.1) on synthetic bring-ups: the reference stack's three phases pass; a phase over its
cap, a phase started before the previous one was healthy, a container the engine started early, phases out
of order or outside the rule fail; no record is an error and a stack that was already up is skipped, never
a pass. Also: the caps the docs give the reference stack tell it from the phase-cap-exceeded mutant."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from core_synth import T0, context

from harness.analyzers import ANALYZERS
from harness.analyzers.phased_deploy import PhasedDeployParams
from harness.analyzers.phased_deploy import run as phased_deploy
from harness.bringup import BringUp, ContainerStart, PhaseTiming, engine_instant
from harness.catalogue import load_catalogue, parse_text
from harness.lint.loader import merge_compose
from harness.metrics.fake import FakeMetricsSource
from harness.reports import command
from harness.reports.run_record import RunRecord, ScenarioRecord, load_run_record, write_run_record
from harness.windows import PhaseMarks

BEGIN = T0 - 200  # the bring-up ends before the first scenario starts
REFERENCE = {
    1: ("redis", "postgres", "rabbitmq", "faultproxy", "ollama", "exporter", "prometheus", "pushgateway"),
    2: ("agent-orchestrator",),
    3: ("agent-summarizer", "agent-indexer", "gateway"),
}
REPO = Path(__file__).resolve().parents[3]


def phase(
    number: int, services: tuple[str, ...], start: float, healthy: float, replicas: int = 1
) -> PhaseTiming:
    """A phase as Stack.up records it: each container started a second after the phase began."""
    containers = tuple(
        ContainerStart(s, f"refstack-{s}-{n}", start + 1) for s in services for n in range(1, replicas + 1)
    )
    return PhaseTiming(number, services, start, healthy, containers)


def reference(**changes: PhaseTiming) -> BringUp:
    phases = {
        "p1": phase(1, REFERENCE[1], BEGIN, BEGIN + 30),
        "p2": phase(2, REFERENCE[2], BEGIN + 31, BEGIN + 50),
        "p3": phase(3, REFERENCE[3], BEGIN + 51, BEGIN + 80),
    }
    return tuple({**phases, **changes}.values())


def judged(bring_up: BringUp, params: PhasedDeployParams | None = None):  # type: ignore[no-untyped-def]
    return phased_deploy(
        context(FakeMetricsSource(), "whole", bring_up=bring_up), params or PhasedDeployParams()
    )


def checks(finding) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.name: c.status for c in finding.evidence.checks}


def test_the_reference_bring_up_passes_with_its_figures() -> None:
    finding = judged(reference())
    assert finding.status == "pass", finding.reason
    figures = {f.name: f.value for f in finding.measured}
    assert figures["services[phase 1]"] == 8 and figures["services[phase 3]"] == 3
    assert figures["seconds[phase 2]"] == 19 and figures["deployed_containers"] == 12
    assert set(checks(finding).values()) == {"pass"}
    assert "phase_1_max" not in finding.threshold and "15 / 25 / 70" in finding.threshold


def test_a_phase_over_its_cap_fails_naming_it() -> None:
    crowded = phase(2, ("agent-orchestrator",), BEGIN + 31, BEGIN + 50, replicas=26)
    finding = judged(reference(p2=crowded))
    assert finding.status == "fail"
    assert checks(finding)["phase 2 size"] == "fail"
    assert "phase 2 size: 26 services (agent-orchestrator), at most 25 allowed" in finding.reason


def test_caps_come_from_params() -> None:
    params = PhasedDeployParams(phase_1_max=8, phase_2_max=1, phase_3_max=2)
    finding = judged(reference(), params)
    assert finding.status == "fail" and checks(finding)["phase 3 size"] == "fail"
    assert checks(finding)["phase 1 size"] == "pass"  # at the cap is within it
    assert "at most 8 / 1 / 2 services" in finding.threshold


def test_a_phase_started_before_the_previous_was_healthy_fails() -> None:
    eager = phase(3, REFERENCE[3], BEGIN + 45, BEGIN + 80)  # phase 2 healthy at +50
    finding = judged(reference(p3=eager))
    assert finding.status == "fail"
    assert "phase 3 gate: started 5.0 s before phase 2 was healthy" in finding.reason


def test_a_container_the_engine_started_early_fails_though_the_harness_waited() -> None:
    """Compose starts a later phase's service early when an earlier phase depends on it."""
    p3 = phase(3, REFERENCE[3], BEGIN + 51, BEGIN + 80)
    pulled_in = ContainerStart("agent-indexer", "refstack-agent-indexer-1", BEGIN + 2)
    p3 = PhaseTiming(
        3, p3.services, p3.started_at, p3.healthy_at, (*p3.containers[:1], pulled_in, p3.containers[2])
    )
    finding = judged(reference(p3=p3))
    assert finding.status == "fail"
    assert (
        "agent-indexer (refstack-agent-indexer-1) started 48.0 s before phase 2 was healthy" in finding.reason
    )


def test_within_the_clock_tolerance_is_no_early_start() -> None:
    p2 = PhaseTiming(
        2, REFERENCE[2], BEGIN + 31, BEGIN + 50, (ContainerStart("agent-orchestrator", "o", BEGIN + 29.7),)
    )
    assert judged(reference(p2=p2)).status == "pass"
    assert judged(reference(p2=p2), PhasedDeployParams(clock_tolerance=0.1)).status == "fail"


@pytest.mark.parametrize(
    ("numbers", "message"),
    [((1, 3, 2), "brought up in the order [1, 3, 2]"), ((1, 2, 4), "phase 4 is not one of rule 2.1's")],
)
def test_phases_out_of_order_or_outside_the_rule_fail(numbers: tuple[int, int, int], message: str) -> None:
    p1, p2, p3 = reference()
    renumbered = tuple(
        PhaseTiming(n, p.services, p.started_at, p.healthy_at, p.containers)
        for n, p in zip(numbers, (p1, p2, p3), strict=True)
    )
    finding = judged(renumbered)
    assert finding.status == "fail" and message in finding.reason


def test_no_record_is_an_error() -> None:
    finding = judged(())
    assert finding.status == "error" and "no recorded bring-up" in finding.reason


def test_a_service_without_a_container_is_an_error_not_a_smaller_phase() -> None:
    p3 = phase(3, REFERENCE[3], BEGIN + 51, BEGIN + 80)
    p3 = PhaseTiming(3, p3.services, p3.started_at, p3.healthy_at, p3.containers[:2])
    finding = judged(reference(p3=p3))
    assert finding.status == "error" and "no container recorded for gateway" in finding.reason


def test_a_stack_that_was_already_up_is_skipped_not_passed() -> None:
    def kept(p: PhaseTiming) -> PhaseTiming:
        return PhaseTiming(
            p.phase,
            p.services,
            p.started_at,
            p.healthy_at,
            tuple(ContainerStart(c.service, c.name, T0 - 9000) for c in p.containers),
        )

    finding = judged(tuple(kept(p) for p in reference()))
    assert finding.status == "skipped" and "already running" in finding.reason
    # Partly kept (a mutant recreates what it changes): the redeployed phase is judged, the rest said.
    finding = judged((kept(reference()[0]), kept(reference()[1]), reference()[2]))
    assert finding.status == "pass"
    assert checks(finding)["phase 2 gate"] == "skipped"


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PhasedDeployParams(phase_2_max=0)
    assert ANALYZERS["phased_deploy"].params is PhasedDeployParams


def test_engine_instants() -> None:
    assert engine_instant("1970-01-01T00:00:10.123456789Z") == pytest.approx(10.123456)
    with pytest.raises(ValueError):
        engine_instant("0001-01-01T00:00:00Z")


DOCUMENTED_CAPS = {1: 10, 2: 2, 3: 8}
"""The reference stack's caps (slas.yaml, phased-deploy): the rule's 15 / 25 / 70 scaled to a 14-container
stack, with room for a replica or two."""


def phase_sizes(*files: str) -> Counter[int]:
    merged = merge_compose([str(REPO / f) for f in files], {})
    return Counter(int(s["labels"]["sutazai.phase"]) for s in merged["services"].values())


def test_the_documented_caps_pass_the_reference_stack_and_fail_the_mutant() -> None:
    sizes = phase_sizes("stack/compose.yml")
    assert all(sizes[n] <= cap for n, cap in DOCUMENTED_CAPS.items()), sizes
    mutant = phase_sizes("stack/compose.yml", "stack/mutants/phase-cap-exceeded.yml")
    assert [n for n, cap in DOCUMENTED_CAPS.items() if mutant[n] > cap] == [2], mutant
    assert sum(mutant.values()) == sum(sizes.values())  # moved, not added


DOCUMENTED_OBJECTIVE = """\
version: 1
scenarios:
  baseline: {}
objectives:
  - id: phased-deploy
    rule: "2.1"
    description: The stack came up phase by phase, health-gated, no phase above its cap
    scenarios: baseline
    window: whole
    analyzer:
      name: phased_deploy
      params: {phase_1_max: 10, phase_2_max: 2, phase_3_max: 8}
"""


def test_the_reference_catalogue_judges_the_bring_up_once_with_the_documented_caps() -> None:
    """slas.yaml's phased-deploy: on the baseline only (the bring-up is one per run), with those caps."""
    (objective,) = [o for o in load_catalogue(REPO / "slas.yaml").objectives if o.id == "phased-deploy"]
    params = objective.measurement.params
    assert isinstance(params, PhasedDeployParams) and params.caps == DOCUMENTED_CAPS
    assert objective.scenarios == ("baseline",)


def test_the_documented_objective_reads_with_the_documented_caps() -> None:
    (objective,) = parse_text(DOCUMENTED_OBJECTIVE, "slas.yaml").objectives
    params = objective.measurement.params
    assert isinstance(params, PhasedDeployParams) and params.caps == DOCUMENTED_CAPS


def test_judge_reads_the_bring_up_from_run_json(tmp_path: Path) -> None:
    """`harness judge` judges the bring-up the run recorded; a run.json without one is an error verdict."""
    catalogue = parse_text(DOCUMENTED_OBJECTIVE, "slas.yaml")
    scenario = ScenarioRecord("baseline", PhaseMarks(T0, T0 + 60))
    for bring_up, status in ((reference(), "pass"), ((), "error")):
        write_run_record(tmp_path / "run.json", RunRecord((scenario,), bring_up=bring_up))
        record = load_run_record(tmp_path / "run.json")
        (verdict,) = command.judge_run(catalogue, record, FakeMetricsSource(), "run.json")
        assert (verdict.id, verdict.status) == ("phased-deploy", status), verdict.reason
