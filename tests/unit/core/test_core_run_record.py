"""The run record and judging it again (the `judge` command itself: tests/unit/test_cli_entrypoints.py)."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest
from core_synth import BreakerAgent, put_breaker, timeline

from harness.analyzers.circuit_breaker import CircuitBreakerParams
from harness.bringup import ContainerStart, PhaseTiming
from harness.catalogue import parse_text
from harness.errors import InputError
from harness.metrics.fake import FakeMetricsSource
from harness.reports import command
from harness.reports.allure import ReportStep
from harness.reports.run_record import (
    RunRecord,
    ScenarioRecord,
    load_run_record,
    parse_run_record,
    record_json,
    write_run_record,
)
from harness.windows import PhaseMarks

SLAS = """\
version: 1
scenarios:
  baseline: {}
  redis-kill: {fault: {kind: container_kill, target: redis}}
objectives:
  - id: breaker
    rule: "3.4"
    scenarios: [redis-kill]
    window: whole
    analyzer: {name: circuit_breaker, params: {dependency: redis}}
  - id: up
    rule: "7.1"
    scenarios: all
    window: steady
    promql: {query: "min(up)", comparator: "==", threshold: 1}
"""
TL = timeline()
RECORD = RunRecord(
    (
        ScenarioRecord("baseline", PhaseMarks(TL.whole.start - 100, TL.whole.start - 40)),
        ScenarioRecord(
            "redis-kill",
            PhaseMarks(TL.whole.start, TL.whole.end, TL.fault.start, TL.fault.end),
            (ReportStep("fault: container_kill redis", TL.fault.start, TL.fault.end, "pass", "killed"),),
        ),
    ),
    MappingProxyType({"agent": frozenset({"redis"})}),
    (
        PhaseTiming(
            1,
            ("redis",),
            TL.whole.start - 300,
            TL.whole.start - 280,
            (ContainerStart("redis", "r-1", TL.whole.start - 299),),
        ),
        PhaseTiming(
            2,
            ("agent",),
            TL.whole.start - 279,
            TL.whole.start - 250,
            (ContainerStart("agent", "a-1", TL.whole.start - 278),),
        ),
    ),
)


def test_round_trip(tmp_path):
    path = tmp_path / "run.json"
    write_run_record(path, RECORD)
    assert load_run_record(path) == RECORD
    assert record_json(RECORD)["scenarios"][0]["marks"]["fault_start"] is None
    assert record_json(RECORD)["bring_up"][1]["containers"] == [
        {"service": "agent", "name": "a-1", "started_at": TL.whole.start - 278}
    ]


def test_a_record_without_a_bring_up_reads_as_none_recorded():
    document = record_json(RECORD)
    del document["bring_up"]
    assert parse_run_record(document, "run.json").bring_up == ()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(version=2), "version: expected 1"),
        (lambda d: d.update(version=True), "version: expected 1, got true"),
        (
            lambda d: d["scenarios"].append(d["scenarios"][0]),
            "scenarios[2].name: 'baseline' is recorded twice",
        ),
        (
            lambda d: d["scenarios"][1]["marks"].update(end="soon"),
            "scenarios[1].marks.end: expected unix seconds",
        ),
        (
            lambda d: d["scenarios"][1]["marks"].update(fault_end=None),
            "scenarios[1].marks: a fault needs both",
        ),
        (
            lambda d: d["scenarios"][1]["marks"].update(end=1e300),
            "scenarios[1].marks.end: expected unix seconds",
        ),
        (lambda d: d["scenarios"][1]["marks"].update(end=float("inf")), "marks.end: expected unix seconds"),
        (lambda d: d["scenarios"][0]["marks"].update(steady_start=-1), "scenarios[0].marks.steady_start"),
        (
            lambda d: d["scenarios"][1]["marks"].update(fault_end=TL.whole.end + 1),
            "scenarios[1].marks: phase marks out",
        ),
        (
            lambda d: d["scenarios"][0]["marks"].update(end=0),
            "scenarios[0].marks: window 'whole' ends before",
        ),
        (lambda d: d["scenarios"][1]["steps"][0].update(stop=0.5), "scenarios[1].steps[0].stop: stops at"),
        (lambda d: d["scenarios"][1]["steps"][0].update(status="ok"), "scenarios[1].steps[0].status"),
        (lambda d: d.update(graph={"agent": "redis"}), "graph.agent: expected a list"),
        (lambda d: d.update(scenarios={}), "scenarios: expected a list"),
        (lambda d: d["bring_up"][0].update(phase="1"), "bring_up[0].phase: expected a whole number"),
        (lambda d: d["bring_up"][0].update(healthy_at=0), "bring_up[0].healthy_at: healthy at 0.000, before"),
        (lambda d: d["bring_up"][1]["containers"][0].pop("name"), "bring_up[1].containers[0].name"),
        (lambda d: d["bring_up"][1].update(services="agent"), "bring_up[1].services: expected a list"),
    ],
)
def test_bad_records_are_input_errors_naming_the_json_path(change, words):
    document = json.loads(json.dumps(record_json(RECORD)))
    change(document)
    with pytest.raises(InputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_run_record(document, "run.json")


def test_an_unwritable_record_is_an_input_error_naming_the_path(tmp_path):
    (tmp_path / "reports").write_text("a file where the folder goes")
    path = tmp_path / "reports" / "run.json"
    with pytest.raises(InputError, match=f"^{tmp_path / 'reports'}: cannot write: "):
        write_run_record(path, RECORD)
    (tmp_path / "run.json").mkdir()
    with pytest.raises(InputError, match=f"^{tmp_path / 'run.json'}: cannot write: "):
        write_run_record(tmp_path / "run.json", RECORD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "run.json"]


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{\n  "version": 1,\n  oops\n}\n')
    with pytest.raises(InputError) as caught:
        load_run_record(path)
    assert caught.value.line == 3


def test_judge_run_judges_every_recorded_scenario():
    catalogue = parse_text(SLAS, "slas.yaml")
    fake = FakeMetricsSource()
    put_breaker(
        fake,
        CircuitBreakerParams(dependency="redis"),
        BreakerAgent().simulate(TL, (TL.fault.start, TL.fault.end)),
    )
    for scenario in RECORD.scenarios:
        fake.put("min(up)", {}, [(scenario.timeline.steady.end, 1.0)])
    verdicts = command.judge_run(catalogue, RECORD, fake, "run.json")
    assert [(v.id, v.scenario, v.status) for v in verdicts] == [
        ("up", "baseline", "pass"),
        ("breaker", "redis-kill", "pass"),
        ("up", "redis-kill", "pass"),
    ]


def test_a_recorded_scenario_missing_from_slas_is_an_input_error():
    catalogue = parse_text(
        SLAS.replace("  baseline: {}\n", "").replace("scenarios: all", "scenarios: [redis-kill]"), "slas.yaml"
    )
    with pytest.raises(InputError, match=r"scenario 'baseline' is not in slas\.yaml"):
        command.judge_run(catalogue, RECORD, FakeMetricsSource(), "run.json")
