"""A worker lost mid-scenario voids the client-side verdicts of every window that ends after it died (they
become ``error`` naming the worker); the server-side verdicts and the windows before it stand. And the
runner does so, with the loss in the load's report step."""

from __future__ import annotations

import pytest

from harness import runner as runner_module
from harness.catalogue import parse_text
from harness.faults.journal import Journal
from harness.load import FakeLoad, LoadProgress
from harness.load.driver import LostWorker
from harness.load.health import reads_client_series, void_client_side
from harness.metrics.fake import FakeMetricsSource
from harness.runner import Progress, Runner
from harness.verdict import Evidence, Verdict
from harness.windows import PhaseMarks, ScenarioTimeline

CATALOGUE = """\
version: 1
defaults:
  load: {users: 4, rate: 8}
scenarios:
  redis-kill:
    windows: {steady: 20s, fault: 20s, recovery: 20s}
    fault: {kind: container_kill, target: redis}
objectives:
"""
OBJECTIVE = """\
  - id: {id}
    rule: "8.1"
    scenarios: all
    window: {window}
    {measurement}
"""
CLIENT_ERRORS = 'promql: {query: "sum(increase(locust_requests_total{outcome=\\"failure\\"}[$window]))", comparator: "<=", threshold: 5}'
SERVER_UP = 'promql: {query: "min(up)", comparator: "==", threshold: 1}'
CLIENT_LATENCY = (
    "analyzer: {name: response_time, params: "
    "{metric: locust_request_duration_seconds, selector: 'job=\"locust\"', percentile: p95, threshold: 2s}}"
)
T0 = 1_700_000_000.0
TIMELINE = ScenarioTimeline.from_marks(PhaseMarks(T0, T0 + 60, T0 + 20, T0 + 40))


def catalogue():
    objectives = [
        ("client-steady", "steady", CLIENT_ERRORS),
        ("client-fault", "fault", CLIENT_ERRORS),
        ("client-recovery", "recovery", CLIENT_ERRORS),
        ("server-fault", "fault", SERVER_UP),
    ]
    text = CATALOGUE + "".join(OBJECTIVE.format(id=i, window=w, measurement=m) for i, w, m in objectives)
    return parse_text(text)


def passing(objective_id: str, window: str) -> Verdict:
    return Verdict(objective_id, "8.1", "redis-kill", window, "gate", "pass", 1.0, "<= 5", "ok", Evidence())


VERDICTS = (
    passing("client-steady", "steady"),
    passing("client-fault", "fault"),
    passing("client-recovery", "recovery"),
    passing("server-fault", "fault"),
)


def test_client_side_verdicts_from_the_loss_on_are_errors_naming_the_worker():
    lost = (LostWorker(worker=2, pid=4242, exit_code=-9, since=T0 + 25),)
    verdicts = {v.id: v for v in void_client_side(VERDICTS, catalogue(), TIMELINE, lost)}
    assert verdicts["client-steady"].status == "pass"  # ended before the worker died
    assert verdicts["server-fault"].status == "pass"  # the stack's own series are whole
    for voided in ("client-fault", "client-recovery"):
        assert verdicts[voided].status == "error" and verdicts[voided].measured is None
        assert "Locust worker 2 (pid 4242) exited with code -9" in verdicts[voided].reason


def test_no_loss_changes_nothing():
    assert void_client_side(VERDICTS, catalogue(), TIMELINE, ()) == VERDICTS


@pytest.mark.parametrize(
    ("measurement", "client"), [(CLIENT_ERRORS, True), (CLIENT_LATENCY, True), (SERVER_UP, False)]
)
def test_client_side_objectives_are_those_reading_the_loads_series(measurement, client):
    text = CATALOGUE + OBJECTIVE.format(id="o", window="fault", measurement=measurement)
    [objective] = parse_text(text).objectives
    assert reads_client_series(objective) is client


class LosingLoad(FakeLoad):
    """Loses a worker the first time the runner asks how the load goes."""

    def progress(self) -> LoadProgress:
        if not self._lost:
            self.loses_worker()
        return super().progress()


def test_the_runner_reports_the_loss_in_the_load_step_and_voids_the_client_side_verdicts(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    text = (
        "version: 1\nscenarios:\n  calm: {windows: {steady: 300ms}}\nobjectives:\n"
        + OBJECTIVE.format(id="client", window="steady", measurement=CLIENT_ERRORS)
        + OBJECTIVE.format(id="server", window="steady", measurement=SERVER_UP)
    )
    catalogue = parse_text(text)
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY_S", 0.05)
    monkeypatch.setattr(
        runner_module,
        "judge_scenario",
        lambda *_args, **_kwargs: (passing("client", "steady"), passing("server", "steady")),
    )
    runner = Runner(
        catalogue=catalogue,
        source=FakeMetricsSource(),
        load=LosingLoad(),
        make_fault=lambda scenario: pytest.fail("no fault here"),
        wait_ready=lambda: None,
        graph={},
        journal=Journal(tmp_path / "j.json"),
        progress=Progress(say=lambda line: None),
        run_id="lost",
    )
    result = runner.run(catalogue.scenario("calm"))
    verdicts = {v.id: v.status for v in result.verdicts}
    assert verdicts == {"client": "error", "server": "pass"}
    [step] = [s for s in result.record.steps if s.name.startswith("load:")]
    assert step.status == "error" and "lost: Locust worker 1" in step.detail
