"""Partitions by packet drop (``mode: drop``) on fake containers and a fake namespace: DROP rules on the
interface whose MAC the engine shows for the network, INPUT and OUTPUT, proven by reading them back, reverted by
deleting exactly those; journalled with them, so the sweep and `harness clean` delete what a crashed run left;
refused or failed when it would prove nothing; the catalogue's `mode` key checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from test_faults_clean_command import run_clean

from harness.catalogue import parse_text
from harness.errors import InputError
from harness.faults import FaultError, Journal, sweep
from harness.faults import partition as partition_module
from harness.faults.base import FaultRefused, applied
from harness.faults.build import build_fault, restore_fault
from harness.faults.fake import FakeContainer, FakeNetns, FakeNetworks, FakeStack
from harness.faults.partition import (
    RULE_COMMENT,
    DropPartitionFault,
    DropRule,
    HostNetns,
    build_partition,
    interfaces,
)

INFRA, EDGE = "demo_infrastructure", "demo_edge"
MAC_INFRA, MAC_EDGE = "02:42:ac:14:00:03", "02:42:ac:15:00:07"
PID = 4242


def redis_stack() -> tuple[FakeStack, FakeContainer, FakeNetns]:
    """A Redis-like service on two networks (eth0 on infrastructure, eth1 on edge), running as pid 4242."""
    container = FakeContainer("redis")
    for network, mac in ((INFRA, MAC_INFRA), (EDGE, MAC_EDGE)):
        FakeNetworks.attach(container, network, "redis")
        container.attrs["NetworkSettings"]["Networks"][network]["MacAddress"] = mac.upper()  # any case
    netns = FakeNetns()
    netns.add(container, PID, eth0=MAC_INFRA, eth1=MAC_EDGE)
    return FakeStack(container), container, netns


def drop(stack: FakeStack, netns: FakeNetns, **networks: str) -> DropPartitionFault:
    fault = build_partition(
        "redis", stack.container("redis"), stack.client.networks, "demo", mode="drop", netns=netns, **networks
    )
    assert isinstance(fault, DropPartitionFault)
    return fault


def listed(netns: FakeNetns, pid: int = PID) -> list[str]:
    return netns.rules[pid]


def rule(chain: str, interface: str) -> str:
    way = "-i" if chain == "INPUT" else "-o"
    return f"-A {chain} {way} {interface} -m comment --comment {RULE_COMMENT} -j DROP"


def test_packets_dropped_on_the_networks_interface_both_ways_and_exactly_those_rules_deleted() -> None:
    stack, container, netns = redis_stack()
    netns.rules[PID].append("-A INPUT -p tcp --dport 22 -j ACCEPT")  # someone else's rule: left alone
    fault = drop(stack, netns, network="infrastructure")
    assert fault.rules == (DropRule(INFRA, "INPUT", "eth0"), DropRule(INFRA, "OUTPUT", "eth0"))
    assert fault.describe() == (
        "partition service redis (container redis) from demo_infrastructure: packets dropped on eth0"
    )
    fault.inject()
    assert sorted(listed(netns)) == sorted(
        [rule("INPUT", "eth0"), rule("OUTPUT", "eth0"), "-A INPUT -p tcp --dport 22 -j ACCEPT"]
    )
    assert fault.in_force()
    assert container.attrs["NetworkSettings"]["Networks"].keys() == {
        INFRA,
        EDGE,
    }  # still on both: names resolve
    fault.revert()
    assert listed(netns) == ["-A INPUT -p tcp --dport 22 -j ACCEPT"] and not fault.in_force()
    fault.revert()  # idempotent: nothing left to delete
    commands = [argv[:2] for _, argv in netns.calls]
    assert commands.count(("iptables", "-I")) == 2 and commands.count(("iptables", "-D")) == 2
    assert stack.client.networks.calls == []  # never disconnected


def test_keep_network_drops_on_every_other_interface() -> None:
    stack, _, netns = redis_stack()
    fault = drop(stack, netns, keep_network="edge")
    assert {r.interface for r in fault.rules} == {"eth0"}
    fault.inject()
    assert not any("eth1" in r for r in listed(netns))


def test_a_rule_deleted_by_hand_is_no_longer_in_force_and_a_restart_leaves_nothing_to_delete() -> None:
    stack, container, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    fault.inject()
    listed(netns).remove(rule("OUTPUT", "eth0"))
    assert not fault.in_force()
    netns.add(container, PID + 1, eth0=MAC_INFRA, eth1=MAC_EDGE)  # restarted: a new process, a new namespace
    assert not fault.in_force()
    fault.revert()
    assert listed(netns, PID + 1) == [] and rule("INPUT", "eth0") in listed(netns, PID)  # the old one is gone


def test_a_stopped_or_removed_container_has_nothing_to_delete() -> None:
    stack, container, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    fault.inject()
    container.stop(timeout=1)
    fault.revert()
    container.gone = True
    fault.revert()


def test_rules_that_do_not_show_fail_the_inject_and_applied_reverts(tmp_path: Path) -> None:
    stack, _, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    netns.inert = True
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(FaultError, match="iptables does not list"), applied(fault, journal):
        pass
    assert journal.entries() == []


def test_a_failed_insert_fails_the_inject_and_what_was_put_is_deleted(tmp_path: Path) -> None:
    stack, _, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    original = netns.run

    def second_insert_fails(container_id: str, pid: int, argv: Sequence[str]) -> str:
        if list(argv[:3]) == ["iptables", "-I", "OUTPUT"]:
            raise FaultError("iptables -I exited 4: resource temporarily unavailable")
        return original(container_id, pid, argv)

    netns.run = second_insert_fails  # type: ignore[method-assign]
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(FaultError, match="exited 4"), applied(fault, journal):
        pass
    assert listed(netns) == [] and journal.entries() == []


def test_a_delete_that_fails_keeps_the_journal_entry(tmp_path: Path) -> None:
    stack, _, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(FaultError, match="iptables -D exited 1"), applied(fault, journal):
        netns.failing = {"-D"}
    assert len(journal.entries()) == 1  # for harness clean


def test_rules_already_there_are_refused_and_not_reverted(tmp_path: Path) -> None:
    stack, _, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    listed(netns).append(rule("INPUT", "eth0"))  # another run's
    journal = Journal(tmp_path / "j.json")
    with pytest.raises(FaultRefused, match="already"), applied(fault, journal):
        pass
    assert listed(netns) == [rule("INPUT", "eth0")] and journal.entries() == []


def test_a_container_that_does_not_run_is_refused() -> None:
    stack, container, netns = redis_stack()
    fault = drop(stack, netns, network="infrastructure")
    container.stop(timeout=1)
    with pytest.raises(FaultRefused, match="does not run"):
        fault.inject()
    with pytest.raises(FaultError, match="does not run, it has no network namespace"):
        drop(stack, netns, network="infrastructure")


def test_a_remote_engine_is_refused_at_build() -> None:
    stack, _, netns = redis_stack()
    netns.remote = True
    with pytest.raises(FaultRefused, match="not on this host"):
        drop(stack, netns, network="infrastructure")


def test_the_host_namespace_runner_refuses_a_pid_not_of_the_container(tmp_path: Path) -> None:
    (tmp_path / str(PID)).mkdir()
    (tmp_path / str(PID) / "cgroup").write_text("12:memory:/docker/someone-else\n")
    with pytest.raises(FaultRefused, match="not on this host"):
        HostNetns(tmp_path).run("fake-redis", PID, ["ip", "-o", "link", "show"])
    with pytest.raises(FaultRefused, match="not on this host"):
        HostNetns(tmp_path).run("fake-redis", PID + 1, ["ip", "-o", "link", "show"])  # no such process


def test_no_interface_with_the_networks_mac_fails_the_build() -> None:
    stack, container, netns = redis_stack()
    container.attrs["NetworkSettings"]["Networks"][INFRA]["MacAddress"] = "02:42:ac:99:99:99"
    with pytest.raises(
        FaultError, match="no interface of its namespace has the MAC address 02:42:ac:99:99:99"
    ):
        drop(stack, netns, network="infrastructure")


def test_interfaces_are_read_from_ip_link() -> None:
    text = (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00:00:00:00:00\n"
        "27: eth0@if28: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group "
        "default \\    link/ether 02:42:AC:14:00:03 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
    )
    assert interfaces(text) == {"02:42:ac:14:00:03": "eth0"}


def test_journalled_with_its_rules_and_deleted_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, _, netns = redis_stack()
    monkeypatch.setattr(partition_module, "NETNS", netns)
    fault = drop(stack, netns, network="infrastructure")
    journal = Journal(tmp_path / "j.json")
    journal.add(fault.record(), pid=99999, since=0.0)  # a run killed while the partition held
    fault.inject()
    (entry,) = Journal(journal.path).entries()  # read back from disk
    assert entry.record.rules == ("demo_infrastructure:INPUT:eth0", "demo_infrastructure:OUTPUT:eth0")
    restored = restore_fault(entry.record, stack, settle_timeout=0.3)
    assert isinstance(restored, DropPartitionFault) and restored.rules == fault.rules
    report = sweep(journal, stack, None, settle_timeout=0.3)
    assert report.ok, report.errors
    assert report.cleaned == (
        "reverted partition service redis (container redis) from demo_infrastructure: packets dropped on eth0 "
        "(journal, pid 99999)",
    )
    assert listed(netns) == [] and journal.entries() == []


def test_harness_clean_deletes_a_journalled_drop_partition(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stack, _, netns = redis_stack()
    monkeypatch.setattr(partition_module, "NETNS", netns)
    fault = drop(stack, netns, keep_network="edge")
    journal = Journal(tmp_path / "j.json")
    journal.add(fault.record(), pid=4242, since=0.0)
    fault.inject()
    assert run_clean(monkeypatch, stack, "--no-proxy", "--journal", str(journal.path)) == 0
    assert "cleaned: reverted partition service redis (container redis) from demo_infrastructure" in (
        capsys.readouterr().out
    )
    assert listed(netns) == []


def test_a_journal_rule_that_is_no_rule_is_an_error() -> None:
    with pytest.raises(FaultError, match="no partition rule"):
        DropRule.parse("demo_infrastructure:FORWARD:eth0")


OBJECTIVES = """\
objectives:
  - {id: up, rule: "7.1", scenarios: all, window: steady, promql: {query: min(up), comparator: "==", threshold: 1}}
"""


def test_built_from_the_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = parse_text(
        "version: 1\nscenarios:\n"
        "  cut: {fault: {kind: partition, target: redis, network: infrastructure, mode: drop}}\n"
        "  gone: {fault: {kind: partition, target: redis, network: infrastructure}}\n" + OBJECTIVES,
        "slas.yaml",
    )
    spec = catalogue.scenario("cut").fault
    other = catalogue.scenario("gone").fault
    assert spec is not None and spec.mode == "drop" and other is not None and other.mode == "disconnect"
    stack, _, netns = redis_stack()
    monkeypatch.setattr(partition_module, "NETNS", netns)
    built = build_fault(spec, stack, "http://127.0.0.1:9")
    assert isinstance(built, DropPartitionFault) and built.netns is netns


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            "{kind: partition, target: x, network: a, mode: cut}",
            r"slas.yaml:3: scenarios\.s\.fault\.mode: expected one of disconnect, drop, got 'cut'",
        ),
        (
            "{kind: container_kill, target: x, mode: drop}",
            r"slas.yaml:3: scenarios\.s\.fault\.mode: only partition has a mode, not container_kill",
        ),
    ],
)
def test_catalogue_refuses_a_bad_mode(fault: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_text(f"version: 1\nscenarios:\n  s: {{fault: {fault}}}\n" + OBJECTIVES, "slas.yaml")
