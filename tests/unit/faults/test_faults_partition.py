"""Partitions on fake containers and networks: cut from one network or from all but one, proven from what
the engine shows, reconnected with the aliases it had; journalled with them, so the sweep and `harness clean`
heal a crashed run's partition; refused or failed when it would prove nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_faults_clean_command import run_clean

from harness.catalogue import parse_text
from harness.errors import InputError
from harness.faults import FaultError, Journal, sweep
from harness.faults.base import FaultRefused, applied
from harness.faults.build import build_fault, restore_fault
from harness.faults.fake import FakeContainer, FakeNetworks, FakeStack
from harness.faults.partition import Endpoint, PartitionFault, build_partition

AGENTS, INFRA, EDGE = "demo_agents", "demo_infrastructure", "demo_edge"


def proxy_stack() -> tuple[FakeStack, FakeContainer]:
    """A fault-proxy-like service on three networks, with Compose's aliases (service name, short id)."""
    container = FakeContainer("faultproxy")
    for network in (AGENTS, INFRA, EDGE):
        FakeNetworks.attach(container, network, "faultproxy", "1a2b3c")
    return FakeStack(container), container


def on(container: FakeContainer) -> set[str]:
    return set(container.attrs["NetworkSettings"]["Networks"])


def partition(stack: FakeStack, **networks: str) -> PartitionFault:
    container = stack.container("faultproxy")
    fault = build_partition("faultproxy", container, stack.client.networks, "demo", **networks)
    return PartitionFault(fault.target, container, fault.networks, fault.cut, settle_timeout=0.3)


def test_cut_from_one_network_by_its_compose_name_and_reconnected_with_its_aliases() -> None:
    stack, container = proxy_stack()
    fault = partition(stack, network="agents")  # slas.yaml names it as compose.yml does
    assert fault.describe() == "partition service faultproxy (container faultproxy) from demo_agents"
    fault.inject()
    assert on(container) == {INFRA, EDGE} and fault.in_force()
    fault.revert()
    assert on(container) == {AGENTS, INFRA, EDGE} and not fault.in_force()
    assert container.attrs["NetworkSettings"]["Networks"][AGENTS]["Aliases"] == ["faultproxy", "1a2b3c"]
    fault.revert()  # idempotent: nothing left to reconnect
    assert [c[0] for c in stack.client.networks.calls] == ["disconnect", "connect"]


def test_cut_from_all_but_one() -> None:
    stack, container = proxy_stack()
    fault = partition(stack, keep_network=EDGE)
    fault.inject()
    assert on(container) == {EDGE}
    fault.revert()
    assert on(container) == {AGENTS, INFRA, EDGE}


def test_reconnected_by_hand_is_no_longer_in_force() -> None:
    stack, container = proxy_stack()
    fault = partition(stack, keep_network=EDGE)
    fault.inject()
    FakeNetworks.attach(container, AGENTS, "faultproxy")
    assert not fault.in_force()


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        (
            {"network": "nowhere"},
            "not on network nowhere (it is on demo_agents, demo_edge, demo_infrastructure)",
        ),
        ({}, "exactly one of network and keep_network"),
        ({"network": "agents", "keep_network": "edge"}, "exactly one of network and keep_network"),
    ],
)
def test_a_partition_that_names_no_network_of_the_target_is_refused_at_build(
    networks: dict[str, str], message: str
) -> None:
    stack, _ = proxy_stack()
    with pytest.raises(FaultError, match=message.replace("(", r"\(").replace(")", r"\)")):
        partition(stack, **networks)


def test_keeping_its_only_network_cuts_nothing_and_is_refused() -> None:
    container = FakeContainer("redis")
    FakeNetworks.attach(container, INFRA, "redis")
    stack = FakeStack(container)
    with pytest.raises(FaultError, match="its only network, there is nothing to cut"):
        build_partition("redis", container, stack.client.networks, "demo", keep_network="infrastructure")


def test_a_disconnect_the_engine_does_not_show_fails_the_inject() -> None:
    stack, _ = proxy_stack()
    stack.client.networks.inert = True
    with pytest.raises(FaultError, match="timed out"):
        partition(stack, network="agents").inject()


def test_a_network_already_gone_is_refused_and_not_reverted(tmp_path: Path) -> None:
    stack, container = proxy_stack()
    fault = partition(stack, network="agents")
    container.attrs["NetworkSettings"]["Networks"].pop(AGENTS)  # cut by someone else meanwhile
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(FaultRefused, match="not on demo_agents any more"), applied(fault, journal):
        pass
    assert stack.client.networks.calls == [] and journal.entries() == []


def test_a_container_gone_has_nothing_to_reconnect() -> None:
    stack, container = proxy_stack()
    fault = partition(stack, network="agents")
    fault.inject()
    container.gone = True
    fault.revert()  # no error: nothing to heal


def test_journalled_with_its_aliases_and_healed_by_the_sweep(tmp_path: Path) -> None:
    stack, container = proxy_stack()
    fault = partition(stack, keep_network="edge")
    journal = Journal(tmp_path / "j.json")
    journal.add(fault.record(), pid=99999, since=0.0)  # a run killed while the partition held
    fault.inject()
    (entry,) = Journal(journal.path).entries()  # read back from disk
    assert entry.record.networks == ("demo_agents=faultproxy,1a2b3c", "demo_infrastructure=faultproxy,1a2b3c")
    restored = restore_fault(entry.record, stack, settle_timeout=0.3)
    assert isinstance(restored, PartitionFault)
    assert restored.cut == (
        Endpoint(AGENTS, ("faultproxy", "1a2b3c")),
        Endpoint(INFRA, ("faultproxy", "1a2b3c")),
    )
    report = sweep(journal, stack, None, settle_timeout=0.3)
    assert report.ok, report.errors
    assert report.cleaned == (
        "reverted partition service faultproxy (container faultproxy) from demo_agents, demo_infrastructure "
        "(journal, pid 99999)",
    )
    assert on(container) == {AGENTS, INFRA, EDGE} and journal.entries() == []


OBJECTIVES = """\
objectives:
  - {id: up, rule: "7.1", scenarios: all, window: steady, promql: {query: min(up), comparator: "==", threshold: 1}}
"""


def test_built_from_the_catalogue() -> None:
    catalogue = parse_text(
        """\
version: 1
scenarios:
  proxy-cut: {fault: {kind: partition, target: faultproxy, network: agents}}
"""
        + OBJECTIVES,
        "slas.yaml",
    )
    spec = catalogue.scenario("proxy-cut").fault
    assert spec is not None and (spec.network, spec.keep_network) == ("agents", None)
    stack, _ = proxy_stack()
    built = build_fault(spec, stack, "http://127.0.0.1:9")
    assert isinstance(built, PartitionFault) and built.cut == (Endpoint(AGENTS, ("faultproxy", "1a2b3c")),)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("{kind: partition, target: x}", "give exactly one of network and keep_network"),
        ("{kind: partition, target: x, network: a, keep_network: b}", "give exactly one"),
        ("{kind: container_kill, target: x, network: a}", "only partition has a network, not container_kill"),
    ],
)
def test_catalogue_refuses_a_partition_without_exactly_one_network(fault: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_text(f"version: 1\nscenarios:\n  s: {{fault: {fault}}}\n" + OBJECTIVES, "slas.yaml")


def test_harness_clean_heals_a_journalled_partition(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stack, container = proxy_stack()
    fault = partition(stack, network="infrastructure")
    journal = Journal(tmp_path / "j.json")
    journal.add(fault.record(), pid=4242, since=0.0)
    fault.inject()
    assert run_clean(monkeypatch, stack, "--no-proxy", "--journal", str(journal.path)) == 0
    out = capsys.readouterr().out
    assert (
        "cleaned: reverted partition service faultproxy (container faultproxy) from demo_infrastructure"
        in out
    )
    assert on(container) == {AGENTS, INFRA, EDGE}
