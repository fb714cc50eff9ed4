"""Network partitions (kind ``partition``): a compose service's container is disconnected from one named
network (``network``), or from every network but one (``keep_network``), and connected again at revert
with the aliases it had there (the service's name among them, so the stack's DNS finds it again).

Proof is read back from the engine: the container's ``NetworkSettings.Networks`` no longer lists the
networks (inject), lists them all again (revert). The networks and their aliases are read when the fault
is built, before it is journalled, so ``harness clean`` reconnects what a crashed run left cut.

``mode: drop`` leaves the container on its networks and drops every packet on its interface there, in its
own network namespace (``nsenter -t <pid> -n iptables -I INPUT -i <if> -j DROP``, and OUTPUT ``-o``), as a
cut link between hosts does: the name still resolves and connections wait for their timeouts instead of
failing at once. The interface is the one whose MAC the engine shows for the network. Proof: the rules read
back (``iptables -S``); revert deletes exactly those rules (a container restarted since has a new namespace
without them). The rules are found when the fault is built and journalled before the inject, so
``harness clean`` deletes what a crashed run left. Needs the harness on the engine's host as root, with
nsenter and iptables (a remote engine's pid is refused, as crash_loop's is).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import docker.errors

from harness.catalogue.model import PARTITION, PartitionMode
from harness.faults.base import FaultError, FaultRecord, FaultRefused
from harness.faults.container import DOCKER_ERRORS, POLL_INTERVAL, ContainerHandle
from harness.polling import wait_until


class NetworkHandle(Protocol):
    def connect(self, container: str, **options: Any) -> None: ...
    def disconnect(self, container: str, **options: Any) -> None: ...


class NetworkSource(Protocol):
    """docker's ``client.networks`` (a fake in harness/faults/fake.py)."""

    def get(self, network_id: str) -> NetworkHandle: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A network the container was on, with its aliases there."""

    network: str
    aliases: tuple[str, ...] = ()

    def text(self) -> str:
        """As journalled: ``network=alias,alias``."""
        return f"{self.network}={','.join(self.aliases)}"

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        network, _, aliases = text.partition("=")
        return cls(network, tuple(a for a in aliases.split(",") if a))


def attached(container: ContainerHandle) -> dict[str, Any]:
    """The networks the engine shows the container on, by name, with their endpoint settings."""
    container.reload()
    return dict(container.attrs.get("NetworkSettings", {}).get("Networks") or {})


def network_named(name: str, on: dict[str, Any], project: str) -> str | None:
    """A network as slas.yaml names it (``agents``) or as the engine does (``refstack_agents``)."""
    return next((n for n in (name, f"{project}_{name}") if n in on), None)


def build_partition(
    target: str,
    container: ContainerHandle,
    networks: NetworkSource,
    project: str,
    network: str | None = None,
    keep_network: str | None = None,
    mode: PartitionMode = "disconnect",
    netns: Netns | None = None,
) -> PartitionFault | DropPartitionFault:
    """The partition of ``target`` from ``network``, or from all its networks but ``keep_network``: cut
    off them (``disconnect``), or its packets there dropped (``drop``, through ``netns``)."""
    if (network is None) == (keep_network is None):
        raise FaultError(f"partition of {target}: give exactly one of network and keep_network")
    try:
        on = attached(container)
    except DOCKER_ERRORS as exc:
        raise FaultError(f"partition of {target}: its networks cannot be read: {exc}") from exc
    named = network_named(network or keep_network or "", on, project)
    if named is None:
        raise FaultError(
            f"partition of {target}: it is not on network {network or keep_network} "
            f"(it is on {', '.join(sorted(on)) or 'none'})"
        )
    cut = [named] if network is not None else sorted(n for n in on if n != named)
    if not cut:
        raise FaultError(f"partition of {target}: {named} is its only network, there is nothing to cut")
    if mode == "drop":
        runner = netns or NETNS
        return DropPartitionFault(target, container, drop_rules(target, container, on, cut, runner), runner)
    endpoints = tuple(Endpoint(n, tuple((on[n] or {}).get("Aliases") or ())) for n in cut)
    return PartitionFault(target, container, networks, endpoints)


@dataclass(frozen=True, slots=True)
class PartitionFault:
    target: str
    """The compose service."""
    container: ContainerHandle = field(compare=False, repr=False)
    networks: NetworkSource = field(compare=False, repr=False)
    cut: tuple[Endpoint, ...] = ()
    settle_timeout: float = 30.0
    """Seconds the engine may take to show the networks gone, or back."""

    def describe(self) -> str:
        names = ", ".join(e.network for e in self.cut)
        return f"partition service {self.target} (container {self.container.name}) from {names}"

    def record(self) -> FaultRecord:
        return FaultRecord(
            PARTITION, self.target, self.container.id, networks=tuple(e.text() for e in self.cut)
        )

    def _on(self) -> set[str]:
        return set(attached(self.container)) & {e.network for e in self.cut}

    def inject(self) -> None:
        try:
            missing = {e.network for e in self.cut} - self._on()
            if missing:
                raise FaultRefused(
                    f"cannot {self.describe()}: it is not on {', '.join(sorted(missing))} any more"
                )
            for endpoint in self.cut:
                self.networks.get(endpoint.network).disconnect(self.container.id)
            wait_until(
                lambda: not self._on(),
                timeout=self.settle_timeout,
                interval=POLL_INTERVAL,
                what=f"{self.describe()} to show in the engine",
                error=FaultError,
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} failed: {exc}") from exc

    def in_force(self) -> bool:
        """Cut from every network it should be cut from (one reconnected by hand: no longer in force)."""
        try:
            return not self._on()
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: networks cannot be read: {exc}") from exc

    def revert(self) -> None:
        """Reconnect each network the container is not on, with its aliases; a container gone has nothing
        to reconnect."""
        try:
            on = self._on()
        except docker.errors.NotFound:
            return
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} cannot be reverted: {exc}") from exc
        try:
            for endpoint in self.cut:
                if endpoint.network not in on:
                    self.networks.get(endpoint.network).connect(
                        self.container.id, aliases=list(endpoint.aliases)
                    )
            wait_until(
                lambda: self._on() == {e.network for e in self.cut},
                timeout=self.settle_timeout,
                interval=POLL_INTERVAL,
                what=f"container {self.container.name} to be on {', '.join(e.network for e in self.cut)} again",
                error=FaultError,
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} cannot be reverted: {exc}") from exc


# ---------------------------------------------------------------- mode: drop

RULE_COMMENT = "harness-partition"
"""Every rule a drop partition puts in a namespace carries this comment."""
NETNS_TIMEOUT = 10.0
Chain = Literal["INPUT", "OUTPUT"]
_LINK = re.compile(r"^\d+:\s+([^:@\s]+)(?:@\S+)?:.*?link/ether\s+([0-9a-fA-F:]{17})")


class Netns(Protocol):
    """Runs a command in a container's network namespace (a fake in harness/faults/fake.py)."""

    def run(self, container_id: str, pid: int, argv: Sequence[str]) -> str:
        """``argv`` in the network namespace of ``pid``, the main process of ``container_id``: its output.
        FaultRefused when that process is not this host's; FaultError when the command fails."""


@dataclass(frozen=True, slots=True)
class HostNetns:
    """``nsenter -t <pid> -n`` with the host's own programs (ip, iptables), once the pid's cgroup shows it
    is the container's: a remote engine's pid would name some unrelated process of this host."""

    proc: Path = Path("/proc")

    def run(self, container_id: str, pid: int, argv: Sequence[str]) -> str:
        try:
            cgroups = (self.proc / str(pid) / "cgroup").read_text()
        except OSError:
            cgroups = ""
        if container_id not in cgroups:
            raise FaultRefused(
                f"process {pid} of container {container_id[:12]} is not on this host (a remote engine?): "
                "a drop partition changes the container's network namespace and needs the harness on the "
                "engine's host"
            )
        command = ["nsenter", "-t", str(pid), "-n", *argv]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=NETNS_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FaultError(
                f"{' '.join(command)}: {exc} (a drop partition needs nsenter and iptables, as root)"
            ) from exc
        if done.returncode != 0:
            raise FaultError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout


NETNS: Netns = HostNetns()
"""Where drop partitions run their commands unless given another (tests put a fake here)."""


@dataclass(frozen=True, slots=True)
class DropRule:
    """One DROP rule on the target's interface on one network, in its namespace."""

    network: str
    chain: Chain
    interface: str

    def args(self) -> list[str]:
        """The rule as iptables takes it after ``-I``/``-D``; ``-S`` lists it as ``-A`` and these."""
        way = "-i" if self.chain == "INPUT" else "-o"
        return [self.chain, way, self.interface, "-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP"]

    def listed(self) -> str:
        return " ".join(["-A", *self.args()])

    def text(self) -> str:
        """As journalled: ``network:chain:interface``."""
        return f"{self.network}:{self.chain}:{self.interface}"

    @classmethod
    def parse(cls, text: str) -> DropRule:
        network, chain, interface = text.rsplit(":", 2)
        if chain not in ("INPUT", "OUTPUT") or not interface:
            raise FaultError(f"fault journal: {text!r} is no partition rule (network:chain:interface)")
        return cls(network, "INPUT" if chain == "INPUT" else "OUTPUT", interface)


def main_pid(container: ContainerHandle) -> int | None:
    """The container's main process, None when it does not run (its namespace is gone with it)."""
    container.reload()
    state = container.attrs.get("State") or {}
    pid = int(state.get("Pid") or 0)
    return pid if state.get("Running") and pid > 0 else None


def interfaces(text: str) -> dict[str, str]:
    """``ip -o link show``: interface by MAC address (lower case)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINK.match(line.strip())
        if match:
            found[match.group(2).lower()] = match.group(1)
    return found


def drop_rules(
    target: str, container: ContainerHandle, on: dict[str, Any], cut: Sequence[str], netns: Netns
) -> tuple[DropRule, ...]:
    """INPUT and OUTPUT rules for the interface of each network in ``cut``, found by its MAC address."""
    pid = main_pid(container)
    if pid is None:
        raise FaultError(f"partition of {target}: it does not run, it has no network namespace to change")
    links = interfaces(netns.run(container.id, pid, ["ip", "-o", "link", "show"]))
    rules: list[DropRule] = []
    for name in cut:
        mac = str((on[name] or {}).get("MacAddress") or "").lower()
        interface = links.get(mac)
        if not mac or interface is None:
            raise FaultError(
                f"partition of {target}: no interface of its namespace has the MAC address "
                f"{mac or '(none shown)'} the engine shows for network {name}"
            )
        rules += [DropRule(name, "INPUT", interface), DropRule(name, "OUTPUT", interface)]
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class DropPartitionFault:
    target: str
    container: ContainerHandle = field(compare=False, repr=False)
    rules: tuple[DropRule, ...] = ()
    netns: Netns = field(default=NETNS, compare=False, repr=False)

    def describe(self) -> str:
        networks = ", ".join(dict.fromkeys(r.network for r in self.rules))
        links = ", ".join(dict.fromkeys(r.interface for r in self.rules))
        return (
            f"partition service {self.target} (container {self.container.name}) from {networks}: "
            f"packets dropped on {links}"
        )

    def record(self) -> FaultRecord:
        networks = tuple(dict.fromkeys(r.network for r in self.rules))
        return FaultRecord(
            PARTITION,
            self.target,
            self.container.id,
            networks=networks,
            rules=tuple(r.text() for r in self.rules),
        )

    def _listed(self, pid: int) -> set[str]:
        """Our rules among those iptables lists in the namespace."""
        lines: set[str] = set()
        for chain in dict.fromkeys(r.chain for r in self.rules):
            lines |= {
                line.strip()
                for line in self.netns.run(self.container.id, pid, ["iptables", "-S", chain]).splitlines()
            }
        return {r.listed() for r in self.rules} & lines

    def inject(self) -> None:
        try:
            pid = main_pid(self.container)
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} failed: {exc}") from exc
        if pid is None:
            raise FaultRefused(f"cannot {self.describe()}: it does not run")
        if self._listed(pid):
            raise FaultRefused(f"cannot {self.describe()}: its rules are there already (another run's?)")
        for rule in self.rules:
            self.netns.run(self.container.id, pid, ["iptables", "-I", *rule.args()])
        missing = {r.listed() for r in self.rules} - self._listed(pid)
        if missing:
            raise FaultError(f"{self.describe()}: iptables does not list {', '.join(sorted(missing))}")

    def in_force(self) -> bool:
        """Every rule still listed (deleted by hand, or the container restarted: not in force)."""
        try:
            pid = main_pid(self.container)
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: its state cannot be read: {exc}") from exc
        return pid is not None and len(self._listed(pid)) == len({r.listed() for r in self.rules})

    def revert(self) -> None:
        """Delete each rule as often as it is listed; a container gone or stopped has nothing to delete (its
        namespace went with its process)."""
        try:
            pid = main_pid(self.container)
        except docker.errors.NotFound:
            return
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()} cannot be reverted: {exc}") from exc
        if pid is None:
            return
        try:
            self._delete(pid)
        except FaultError:
            if self._pid_now() == pid:
                raise
            # the process is gone (stopped, restarted) and its namespace with it: nothing is left in force

    def _pid_now(self) -> int | None:
        try:
            return main_pid(self.container)
        except DOCKER_ERRORS:
            return None

    def _delete(self, pid: int) -> None:
        for _ in range(len(self.rules) + 1):
            listed = self._listed(pid)
            if not listed:
                return
            for rule in self.rules:
                if rule.listed() in listed:
                    self.netns.run(self.container.id, pid, ["iptables", "-D", *rule.args()])
        raise FaultError(
            f"{self.describe()} cannot be reverted: iptables still lists {', '.join(sorted(self._listed(pid)))}"
        )


def restore_partition(
    record: FaultRecord,
    container: ContainerHandle,
    networks: NetworkSource,
    settle_timeout: float,
    netns: Netns | None = None,
) -> PartitionFault | DropPartitionFault:
    """A journalled partition, able to reconnect what it cut, or to delete the rules it put."""
    if record.rules:
        rules = tuple(DropRule.parse(text) for text in record.rules)
        return DropPartitionFault(record.target, container, rules, netns or NETNS)
    cut = tuple(Endpoint.parse(text) for text in record.networks)
    return PartitionFault(record.target, container, networks, cut, settle_timeout)
