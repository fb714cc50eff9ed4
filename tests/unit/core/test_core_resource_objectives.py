"""The reference slas.yaml and the mutants: every resource analyzer judges the scenarios where it means
something, and every mutant's x-detection names a scenario of slas.yaml and checks that judge it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = load_catalogue(ROOT / "slas.yaml")
MUTANTS = sorted((ROOT / "stack" / "mutants").glob("*.yml"))
RESOURCE_ANALYZERS = (
    "memory_limits",
    "memory_pools",
    "model_pool",
    "concurrency_limit",
    "ollama_limits",
    "cpu_affinity",
)


def objectives(analyzer: str) -> list:
    return [o for o in CATALOGUE.objectives if o.measurement.analyzer == analyzer]


@pytest.mark.parametrize("analyzer", RESOURCE_ANALYZERS)
def test_every_resource_analyzer_judges_every_overload_and_pressure_scenario(analyzer: str) -> None:
    found = objectives(analyzer)
    assert found, f"no objective uses {analyzer}"
    pressed = {s.name for s in CATALOGUE.scenarios if s.fault and s.fault.kind.endswith(("_load", "_burst"))}
    judged = {name for o in found for name in o.scenarios}
    assert pressed <= judged


@pytest.mark.parametrize("objective", ["memory-limits", "model-pool"])
def test_an_oom_check_skips_only_the_scenarios_pressed_past_the_limit(objective: str) -> None:
    (limits,) = [o for o in CATALOGUE.objectives if o.id == objective]
    past = {
        s.name
        for s in CATALOGUE.scenarios
        if s.fault and s.fault.kind == "memory_pressure" and (s.fault.attribute("fraction_of_limit") or 0) > 1
    }
    assert past, "a scenario presses memory past a limit"
    assert set(limits.scenarios) == {s.name for s in CATALOGUE.scenarios} - past


def test_no_cascade_judges_the_neighbours_of_every_pressed_service() -> None:
    (cascade,) = [o for o in CATALOGUE.objectives if o.id == "no-cascade"]
    faulted = {s.name for s in CATALOGUE.scenarios if s.fault and s.fault.kind != "container_kill"}
    assert {n for n in faulted if "memory" in n or "cpu" in n or "overload" in n} <= set(cascade.scenarios)


def test_the_new_scenarios_keep_short_windows() -> None:
    for s in CATALOGUE.scenarios:
        if s.fault and s.fault.kind in ("ollama_load", "http_burst", "memory_pressure", "cpu_pressure"):
            assert s.windows.total <= 65, s.name


@pytest.mark.parametrize("path", MUTANTS, ids=[p.stem for p in MUTANTS])
def test_a_mutants_detection_names_a_scenario_and_checks_that_judge_it(path: Path) -> None:
    detection = yaml.safe_load(path.read_text())["x-detection"]
    scenario, checks = detection["scenario"], detection["checks"]
    if scenario is None:
        assert not checks
        return
    names = {s.name for s in CATALOGUE.scenarios}
    assert scenario in names
    judging = {o.id for o in CATALOGUE.objectives_for(scenario)}
    named = {c.split(":", 1)[0] for c in checks}  # `id:regression` is that objective's regression verdict
    assert named <= judging, f"{path.name}: {named - judging} do not judge {scenario}"


def test_no_response_time_objective_judges_a_scenario_without_load() -> None:
    # An idle fault stops the load by design: its throughput check would read that as requests hanging.
    idle = {s.name for s in CATALOGUE.scenarios if s.fault and s.fault.kind == "idle"}
    assert idle, "the reference catalogue has an idle scenario"
    for objective in CATALOGUE.objectives:
        if objective.measurement.analyzer == "response_time":
            assert not idle & set(objective.scenarios), objective.id
