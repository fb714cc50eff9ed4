"""Abort on a runaway breach (issue 11): slas.yaml `abort:` conditions, the safeguard that polls them, and the
runner reverting the fault at once, marking the scenario aborted (exit 1) and going on with the next one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import runner as runner_module
from harness.catalogue.parse import parse_text
from harness.errors import InputError
from harness.faults.build import build_fault
from harness.faults.fake import FakeContainer, FakeStack
from harness.faults.journal import Journal
from harness.load.fake import FakeLoad
from harness.metrics.fake import FakeMetricsSource
from harness.runner import Progress, Runner
from harness.safeguards import Safeguard, ScenarioAborted
from harness.verdict import exit_code

ERRORS = 'sum(rate(http_requests_total{service="ollama",status=~"5.."}[10s]))'
CATALOGUE = f"""
version: 1
defaults:
  windows: {{steady: 100ms, fault: 3s, recovery: 100ms}}
scenarios:
  pause-db:
    fault: {{kind: container_pause, target: db}}
    abort:
      - name: ollama-errors
        promql: '{ERRORS}'
        comparator: ">"
        threshold: 0.5
        for: 1s
  pause-db-again:
    fault: {{kind: container_pause, target: db}}
objectives:
  - id: health
    rule: "8.1"
    scenarios: all
    window: whole
    analyzer: {{name: response_time, params: {{threshold: 1s}}}}
"""


def test_conditions_are_read_with_their_defaults() -> None:
    scenario = parse_text(CATALOGUE, "slas.yaml").scenario("pause-db")
    (condition,) = scenario.abort
    assert (condition.name, condition.rule, condition.hold, condition.threshold) == (
        "ollama-errors",
        "10.3",
        1.0,
        0.5,
    )
    memory = parse_text(
        CATALOGUE.replace("- name: ollama-errors", "- host_memory_below: 512m\n      - name: x")
    )
    assert memory.scenario("pause-db").abort[0].host_memory_below == 512 << 20


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ('comparator: ">"', "comparator"),
        ("threshold: 0.5", "threshold"),
        ("for: 1s", "soon"),
        ("name: ollama-errors", "rule"),
        ("name: ollama-errors", "host_memory_below"),
    ],
)
def test_a_wrong_condition_is_one_error_naming_the_field(change: str, words: str) -> None:
    broken = {
        "comparator": CATALOGUE.replace(change, 'comparator: "=~"'),
        "threshold": CATALOGUE.replace(change, "threshold: high"),
        "soon": CATALOGUE.replace(change, "for: soon"),
        "rule": CATALOGUE.replace(change, 'name: x\n        rule: "99.99"'),
        "host_memory_below": CATALOGUE.replace(change, "name: x\n        host_memory_below: lots"),
    }[words]
    with pytest.raises(InputError) as error:
        parse_text(broken, "slas.yaml")
    message = str(error.value)
    assert message.startswith("slas.yaml:") and "abort[0]" in message, message


def test_a_baseline_cannot_have_abort_conditions() -> None:
    text = CATALOGUE.replace("  pause-db:\n    fault: {kind: container_pause, target: db}\n", "  pause-db:\n")
    with pytest.raises(InputError, match="abort conditions guard a fault"):
        parse_text(text, "slas.yaml")


def test_a_condition_aborts_only_after_holding_for_its_duration() -> None:
    (condition,) = parse_text(CATALOGUE).scenario("pause-db").abort
    source = FakeMetricsSource()
    safeguard = Safeguard((condition,), source)
    now = 1000.0
    source.put(ERRORS, {}, [(now - 1, 0.9), (now + 0.5, 0.2), (now + 0.6, 0.9), (now + 5, 0.9)])
    safeguard.check(now)  # holds since now
    safeguard.check(now + 0.5)  # a break: 0.2 is not > 0.5
    safeguard.check(now + 1.0)  # holds again, since now + 1.0 (0.9 seen at 0.6 is the latest sample)
    with pytest.raises(ScenarioAborted, match=r"ollama-errors.*measured 0.9 > 0.5, for 1 s"):
        safeguard.check(now + 2.0)


def test_missing_data_never_aborts() -> None:
    (condition,) = parse_text(CATALOGUE).scenario("pause-db").abort
    source = FakeMetricsSource()
    source.fail("Prometheus unreachable")
    Safeguard((condition,), source).check(time.time())  # no exception: the judge reports the missing data


def test_host_memory_floor() -> None:
    catalogue = parse_text(
        CATALOGUE.replace("- name: ollama-errors", "- host_memory_below: 512m\n      - name: x")
    )
    floor = catalogue.scenario("pause-db").abort[0]
    Safeguard((floor,), FakeMetricsSource(), memory_available=lambda: 1 << 30).check(0.0)
    with pytest.raises(ScenarioAborted, match="256 MiB available on the host"):
        Safeguard((floor,), FakeMetricsSource(), memory_available=lambda: 256 << 20).check(0.0)


def test_an_aborted_scenario_reverts_its_fault_at_once_fails_and_the_next_one_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(runner_module, "SAFEGUARD_EVERY_S", 0.05)
    catalogue = parse_text(CATALOGUE.replace("for: 1s", "for: 0s"), "slas.yaml")
    db = FakeContainer("db")
    stack = FakeStack(db)
    source = FakeMetricsSource(scrape_interval=0.05)
    source.put(ERRORS, {"service": "ollama"}, [(time.time() + i * 0.05, 0.9) for i in range(200)])
    runner = Runner(
        catalogue=catalogue,
        source=source,
        load=FakeLoad(),
        make_fault=lambda s: build_fault(s.fault, stack, "http://127.0.0.1:9"),  # type: ignore[arg-type]
        wait_ready=lambda: None,
        graph={},
        journal=Journal(tmp_path / "journal.json"),
        progress=Progress(lambda line: None),
        run_id="unit",
    )
    started = time.monotonic()
    aborted = runner.run(catalogue.scenario("pause-db"))
    assert time.monotonic() - started < 2.5, "the 3 s fault window was cut short"
    assert [c for c in db.calls if c != "reload"] == ["pause", "unpause"]
    assert not db.attrs["State"]["Paused"]
    statuses = {(v.id, v.status) for v in aborted.verdicts}
    assert statuses == {("abort.ollama-errors", "fail"), ("health", "skipped")}
    abort = next(v for v in aborted.verdicts if v.status == "fail")
    assert abort.rule == "10.3" and "ollama-errors" in abort.reason
    assert any(step.name == "aborted: ollama-errors" for step in aborted.record.steps)
    assert exit_code(aborted.verdicts, True) == 1

    later = runner.run(catalogue.scenario("pause-db-again"))  # no conditions: runs its whole window
    assert not any(v.id.startswith("abort.") for v in later.verdicts)
    assert [c for c in db.calls if c != "reload"] == ["pause", "unpause", "pause", "unpause"]
