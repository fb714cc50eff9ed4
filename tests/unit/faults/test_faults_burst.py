"""Bursts on fake helpers: proven by the helper's "rose" line, refused when they would prove nothing,
reverted by removing the helper; built from the catalogue and rebuilt from the journal; swept by their
project's label when no journal names them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import (
    FaultError,
    FaultRecord,
    FaultRefused,
    Journal,
    applied,
    build_fault,
    restore_fault,
    sweep,
)
from harness.faults.burst import IMAGE, BurstFault, HelperState, LeftoverBurst, plan_for
from harness.faults.fake import FakeContainer, FakeEngine, FakeStack

PROJECT = "refstack"


class FakeHelpers:
    """Helper containers as dicts. ``script`` is what each helper prints; ``exits`` whether it ends."""

    def __init__(self, script: tuple[Mapping[str, object], ...], exits: bool = False, code: int = 0) -> None:
        self.script, self.exits, self.code = script, exits, code
        self.started: dict[str, tuple[str, dict]] = {}
        self.removed: list[str] = []
        self.networks = {"refstack_infrastructure": PROJECT, "other_net": "other"}

    def network_project(self, network: str) -> str | None:
        return self.networks.get(network)

    def start(self, name: str, network: str, argument: str, labels: Mapping[str, str]) -> None:
        self.started[name] = (network, json.loads(argument))
        self.labels = dict(labels)

    def state(self, name: str) -> HelperState | None:
        if name not in self.started:
            return None
        return HelperState(not self.exits, self.code if self.exits else 0, self.script)

    def remove(self, name: str) -> None:
        self.started.pop(name, None)
        self.removed.append(name)


ROSE = ({"event": "baseline", "value": 1}, {"event": "rose", "before": 1, "value": 18})


def target(
    networks: Mapping[str, str] | None = None, ports: tuple[str, ...] = ("10110/tcp",), name: str = "ollama"
) -> FakeContainer:
    container = FakeContainer(name)
    container.attrs["Config"].update(
        Labels={"com.docker.compose.project": PROJECT}, ExposedPorts={p: {} for p in ports}
    )
    found = {"refstack_infrastructure": "172.20.0.5"} if networks is None else networks
    container.attrs["NetworkSettings"] = {"Networks": {n: {"IPAddress": ip} for n, ip in found.items()}}
    return container


def burst(helpers: FakeHelpers, container: FakeContainer | None = None) -> BurstFault:
    plan = plan_for("ollama_load", concurrency=8, requests=40, models=("tinyllama", "phi"), num_predict=32)
    return BurstFault("ollama_load", "ollama", container or target(), plan, helpers, "h1", settle_timeout=0.3)


def test_inject_starts_the_helper_on_the_project_network_and_is_proven_by_the_rise() -> None:
    helpers = FakeHelpers(ROSE)
    fault = burst(helpers)
    fault.inject()
    network, plan = helpers.started["h1"]
    assert network == "refstack_infrastructure"
    assert (plan["host"], plan["port"], plan["path"]) == ("172.20.0.5", 10110, "/api/generate")
    assert (plan["concurrency"], plan["requests"], plan["rise"]) == (8, 40, 2)
    assert [b["model"] for b in plan["bodies"]] == ["tinyllama", "phi"]
    assert plan["bodies"][0]["options"] == {"num_predict": 32} and plan["bodies"][0]["stream"] is False
    assert plan["proof"] == ["ollama_requests_inflight", "ollama_queue_depth"]
    assert helpers.labels["harness.helper"] == "burst"
    assert fault.in_force()
    fault.revert()
    assert helpers.removed == ["h1"] and not fault.in_force()
    fault.revert()  # twice is harmless


def test_a_burst_that_ends_without_showing_in_the_target_raises() -> None:
    done = {"event": "done", "sent": 40, "statuses": {"404": 40}, "rose": False}
    helpers = FakeHelpers(({"event": "baseline", "value": 0}, done), exits=True)
    with pytest.raises(FaultError, match="ended without showing"):
        burst(helpers).inject()


def test_a_burst_that_never_shows_times_out() -> None:
    helpers = FakeHelpers(({"event": "baseline", "value": 0},))
    with pytest.raises(FaultError, match=r"timed out .* ollama_requests_inflight \+ ollama_queue_depth"):
        burst(helpers).inject()


def test_a_removed_helper_is_not_in_force_and_a_failed_one_neither() -> None:
    helpers = FakeHelpers(ROSE)
    fault = burst(helpers)
    fault.inject()
    helpers.started.clear()
    assert not fault.in_force()
    crashed = FakeHelpers(ROSE, exits=True, code=1)
    assert not replace(fault, helpers=crashed).in_force()


def test_a_stopped_target_is_refused_and_nothing_starts() -> None:
    helpers = FakeHelpers(ROSE)
    container = target()
    container.stop(timeout=1)
    with pytest.raises(FaultRefused, match="exited"):
        burst(helpers, container).inject()
    assert not helpers.started


def test_a_target_on_no_network_of_its_project_is_refused() -> None:
    helpers = FakeHelpers(ROSE)
    with pytest.raises(FaultRefused, match="no network of its compose project"):
        burst(helpers, target({"other_net": "10.0.0.2"})).inject()
    assert not helpers.started


def test_the_port_must_be_given_when_the_target_exposes_several() -> None:
    with pytest.raises(FaultError, match="exposes 2 ports"):
        burst(FakeHelpers(ROSE), target(ports=("10002/tcp", "10003/tcp"))).inject()
    given = replace(burst(FakeHelpers(ROSE)), plan=replace(burst(FakeHelpers(ROSE)).plan, port=10003))
    helpers = FakeHelpers(ROSE)
    given = replace(given, helpers=helpers, container=target(ports=("10002/tcp", "10003/tcp")))
    given.inject()
    assert helpers.started["h1"][1]["port"] == 10003


def test_without_one_exposed_port_the_targets_port_variable_names_it() -> None:
    # a Swarm task's container: the stack file's `expose` is dropped, PORT is still set (rule 5.3)
    for ports in ((), ("10002/tcp", "10003/tcp")):
        helpers = FakeHelpers(ROSE)
        container = target(ports=ports)
        container.attrs["Config"]["Env"] = ["PATH=/usr/bin", "PORT=10110"]
        burst(helpers, container).inject()
        assert helpers.started["h1"][1]["port"] == 10110
    with pytest.raises(
        FaultError, match=r"ollama exposes 0 ports \(none\) and sets no PORT: give the burst a port"
    ):
        burst(FakeHelpers(ROSE), target(ports=())).inject()


def test_applied_journals_the_helper_by_name_and_reverts_on_an_interrupt(tmp_path) -> None:
    helpers = FakeHelpers(ROSE)
    journal = Journal(tmp_path / "journal.json")
    with pytest.raises(KeyboardInterrupt), applied(burst(helpers), journal):
        assert [e.record for e in journal.entries()] == [FaultRecord("ollama_load", "ollama", "h1")]
        raise KeyboardInterrupt
    assert helpers.removed == ["h1"] and not journal.entries()


def test_build_fault_makes_an_agent_burst_naming_the_models_in_turn() -> None:
    helpers = FakeHelpers(ROSE)
    stack = FakeStack(target())
    spec = FaultSpec(
        "http_burst",
        "ollama",
        (("concurrency", 20.0), ("requests", 400.0), ("duration", 30.0)),
        models=("a", "b", "c"),
    )
    fault = build_fault(spec, stack, "http://127.0.0.1:9", helpers)
    assert isinstance(fault, BurstFault)
    fault.inject()
    plan = helpers.started[fault.name][1]
    assert plan["path"] == "/api/task" and plan["duration"] == 30.0
    assert [b["model"] for b in plan["bodies"]] == ["a", "b", "c"]
    assert all("{n}" in b["input"] for b in plan["bodies"])  # a fresh input per request: no cache hit
    assert plan["proof"] == ["agent_inflight_requests", "agent_concurrency_waiting"]
    assert (plan["counter"], plan["proof_port"]) == (None, 10110)  # the gauges, on the port it sends to
    assert fault.name.startswith("harness-burst-ollama-")


def test_build_fault_hands_the_helper_the_number_of_distinct_bodies() -> None:
    helpers = FakeHelpers(ROSE)
    attributes = (("concurrency", 4.0), ("requests", 600.0), ("distinct", 8.0))
    fault = build_fault(FaultSpec("http_burst", "ollama", attributes), FakeStack(target()), "", helpers)
    fault.inject()
    assert helpers.started[fault.name][1]["distinct"] == 8
    assert plan_for("http_burst", concurrency=2, requests=4).distinct is None  # each body new, as before


def gateway_burst(helpers: FakeHelpers) -> BurstFault:
    attributes = (("concurrency", 32.0), ("requests", 2000.0), ("port", 8080.0), ("proof_port", 10402.0))
    spec = FaultSpec(
        "http_burst",
        "gateway",
        attributes,
        path="/api/indexer/task",
        proof_counter="haproxy_frontend_http_requests_total",
    )
    container = target(ports=("8080/tcp", "10402/tcp"), name="gateway")
    fault = build_fault(spec, FakeStack(container), "", helpers)
    assert isinstance(fault, BurstFault)
    return replace(fault, settle_timeout=0.3)


def test_a_gateway_burst_is_proven_by_its_request_counter_on_the_metrics_port() -> None:
    helpers = FakeHelpers(ROSE)
    fault = gateway_burst(helpers)
    fault.inject()
    plan = helpers.started[fault.name][1]
    assert (plan["port"], plan["path"], plan["proof_port"]) == (8080, "/api/indexer/task", 10402)
    assert plan["counter"] == "haproxy_frontend_http_requests_total" and plan["proof"] == []
    assert fault.in_force()


def test_a_gateway_burst_its_counter_does_not_cover_is_not_proven() -> None:
    with pytest.raises(
        FaultError, match=r"timed out .* haproxy_frontend_http_requests_total \(rising by every"
    ):
        gateway_burst(FakeHelpers(({"event": "baseline", "value": 7},))).inject()
    done = {"event": "done", "sent": 2000, "statuses": {"429": 1900, "200": 100}, "rose": False}
    with pytest.raises(FaultError, match="ended without showing"):
        gateway_burst(FakeHelpers(({"event": "baseline", "value": 7}, done), exits=True)).inject()


def test_an_agent_burst_without_models_sends_plain_tasks_at_its_path() -> None:
    plan = plan_for("http_burst", concurrency=2, requests=4, path="/api/task/async")
    assert plan.path == "/api/task/async" and plan.bodies == ({"input": "burst {n}"},)
    with pytest.raises(FaultError, match="at least one model"):
        plan_for("ollama_load", concurrency=2, requests=4)


def test_restore_fault_rebuilds_a_leftover_that_removes_its_helper() -> None:
    helpers = FakeHelpers(ROSE)
    helpers.start("h9", "refstack_infrastructure", "{}", {})
    leftover = restore_fault(FaultRecord("http_burst", "agent-indexer", "h9"), None, helpers=helpers)
    assert isinstance(leftover, LeftoverBurst) and leftover.in_force()
    with pytest.raises(FaultError, match="only reverted"):
        leftover.inject()
    leftover.revert()
    assert helpers.removed == ["h9"] and not leftover.in_force()


class EngineHelpers(FakeHelpers):
    """Helpers started as containers on the fake engine, with the labels the fault gives them."""

    def __init__(self, engine: FakeEngine) -> None:
        super().__init__(ROSE)
        self.engine = engine

    def start(self, name: str, network: str, argument: str, labels: Mapping[str, str]) -> None:
        super().start(name, network, argument, labels)
        self.engine.containers.run(IMAGE.image, [argument], name=name, network=network, labels=dict(labels))


def test_a_helper_no_journal_names_is_swept_by_its_projects_label(tmp_path: Path) -> None:
    stack = FakeStack(target(), project=PROJECT)
    assert isinstance(stack.client, FakeEngine)
    elsewhere = {"harness.helper": "burst", "harness.project": "other", "harness.target": "agent"}
    stack.client.containers.run(IMAGE.image, ["{}"], name="harness-burst-agent-0", labels=elsewhere)
    burst(EngineHelpers(stack.client)).inject()  # ... and the run is killed before its journal entry
    report = sweep(Journal(tmp_path / "none.json"), stack, None)
    assert report.ok, report.errors
    assert report.cleaned == ("removed burst helper h1 (ollama_load on ollama, by its labels)",)
    assert [h.name for h in stack.client.helpers if not h.removed] == ["harness-burst-agent-0"]
    assert sweep(Journal(tmp_path / "none.json"), stack, None).cleaned == ()
