"""Stand-ins for docker's Container (the same state transitions) and for the part of its client the
pressure faults use, for tests of the fault layer."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import docker.errors

_clock = itertools.count(1)


class FakeContainer:
    """Running, unpaused at first. Actions named in ``inert`` are accepted but change nothing (a fault
    that does not take effect); ``calls`` lists every action in order. ``restart_policy`` is what Docker
    shows as ``HostConfig.RestartPolicy.Name`` ("no", "on-failure", "always", "unless-stopped")."""

    def __init__(
        self, name: str, inert: frozenset[str] = frozenset(), gone: bool = False, restart_policy: str = "no"
    ) -> None:
        self.id = f"fake-{name}"
        self.name = name
        self.inert = inert
        self.gone = gone
        self.calls: list[str] = []
        self.attrs: dict[str, Any] = {
            "State": {},
            "Config": {"StopTimeout": 3},
            "HostConfig": {"RestartPolicy": {"Name": restart_policy, "MaximumRetryCount": 0}},
            "NetworkSettings": {"Networks": {}},
        }
        self.grace_given: list[int] = []
        self._set(running=True, paused=False, started=True)

    def _set(self, running: bool, paused: bool, started: bool = False) -> None:
        state = self.attrs["State"]
        if started:
            state["StartedAt"] = f"2026-01-01T00:00:{next(_clock):02d}Z"
        status = "paused" if paused else "running" if running else "exited"
        state.update(Running=running, Paused=paused, Status=status)

    def _do(self, action: str) -> bool:
        if self.gone:
            raise docker.errors.NotFound(f"No such container: {self.name}")
        self.calls.append(action)
        return action not in self.inert

    @property
    def running(self) -> bool:
        return bool(self.attrs["State"]["Running"]) and not self.attrs["State"]["Paused"]

    def reload(self) -> None:
        self._do("reload")

    def kill(self) -> None:
        if self._do("kill"):
            self._set(running=False, paused=False)

    def stop(self, timeout: int) -> None:
        self.grace_given.append(timeout)
        if self._do("stop"):
            self._set(running=False, paused=False)

    def restart(self, timeout: int) -> None:
        self.grace_given.append(timeout)
        if self._do("restart"):
            self._set(running=True, paused=False, started=True)

    def pause(self) -> None:
        if self._do("pause"):
            self._set(running=True, paused=True)

    def unpause(self) -> None:
        if self._do("unpause"):
            self._set(running=True, paused=False)

    def start(self) -> None:
        if self._do("start"):
            self._set(running=True, paused=False, started=True)


@dataclass(frozen=True, slots=True)
class FakeProject:
    name: str


class FakeStack:
    """A ContainerSource over fake containers, found by name as compose services, in compose project
    ``project``."""

    def __init__(self, *containers: FakeContainer, project: str = "demo") -> None:
        self.all = list(containers)
        self.client = FakeEngine(self.all)
        self.project = FakeProject(project)

    def container(self, service: str) -> FakeContainer:
        return next(c for c in self.all if c.name == service)

    def containers(self, service: str | None = None, all: bool = True) -> list[FakeContainer]:
        return [c for c in self.all if service in (None, c.name)]


class FakeHelper:
    """A helper container on the fake engine: what it was started with, and what it holds."""

    def __init__(self, engine: FakeEngine, name: str, command: list[str], options: dict[str, Any]) -> None:
        self.engine = engine
        self.id = f"helper-{next(_clock)}"
        self.name = name
        self.command = command
        self.options = options
        self.memory = 0
        self.cpu = 0.0
        self.removed = False
        self.attrs: dict[str, Any] = {
            "State": {"Running": True, "Status": "running", "ExitCode": 0},
            "Config": {"Labels": dict(options.get("labels") or {})},
            "HostConfig": {"CgroupParent": options.get("cgroup_parent", "")},
        }

    def reload(self) -> None:
        if self.removed:
            raise docker.errors.NotFound(f"No such container: {self.name}")

    def remove(self, force: bool = False) -> None:
        self.reload()
        self.engine.end(self, exit_code=137)
        self.removed = True

    def logs(self, tail: int = 3) -> bytes:
        return b"stress-ng: info:  [1] dispatching hogs"

    @property
    def running(self) -> bool:
        return not self.removed and bool(self.attrs["State"]["Running"])


def _option(command: list[str], name: str, default: float = 0) -> float:
    return float(command[command.index(name) + 1]) if name in command else default


class FakeEngine:
    """The part of docker's client the pressure faults use (harness/faults/stress.py), over fake
    containers: a helper started with ``cgroup_parent="/docker/<id>"`` is charged to that container the
    way the kernel charges it. ``stress-ng --vm K --vm-bytes N``: K workers of N/K; those that fit under
    the target's limit (``attrs["HostConfig"]["Memory"]``) hold their share, each that does not is an
    OOM event of the target, and a helper none of whose workers fit ends. ``--cpu W --cpu-load P``: W x P
    % of a core, within the target's quota. ``inert``: helpers run but hold nothing; ``usage`` and
    ``cpu_rate``: the targets' own working set (bytes) and CPU use (cores)."""

    def __init__(
        self,
        targets: list[FakeContainer],
        cgroup_version: str = "1",
        cgroup_driver: str = "cgroupfs",
        host_cores: int = 2,
    ) -> None:
        self.targets = targets
        self.cgroup = (cgroup_version, cgroup_driver)
        self.host_cores = host_cores
        self.helpers: list[FakeHelper] = []
        self.inert = False
        self.usage: dict[str, int] = {}
        self.cpu_rate: dict[str, float] = {}
        self.oom: list[dict[str, Any]] = []
        self._cpu_seconds: dict[str, tuple[float, float]] = {}
        self.containers = _FakeContainers(self)
        self.images = _FakeImages()
        self.networks = FakeNetworks(targets)
        self.api = self

    def info(self) -> dict[str, Any]:
        version, driver = self.cgroup
        return {"CgroupVersion": version, "CgroupDriver": driver, "NCPU": self.host_cores}

    def events(
        self,
        since: int | None = None,
        until: int | None = None,
        filters: dict[str, Any] | None = None,
        decode: bool | None = None,
    ) -> list[dict[str, Any]]:
        wanted = set((filters or {}).get("container", ()))
        return [
            e
            for e in self.oom
            if (not wanted or e["id"] in wanted)
            and (since is None or e["timeNano"] >= since * 1e9)
            and (until is None or e["timeNano"] < (until + 1) * 1e9)
        ]

    def stats(self, container: str, stream: bool = True, one_shot: bool | None = None) -> dict[str, Any]:
        """docker's ``client.api.stats``."""
        target = self.containers.get(container)
        if not target.attrs["State"].get("Running"):
            return {"memory_stats": {}, "cpu_stats": {}}
        seconds = self._advance(target)
        held = sum(h.memory for h in self.helpers_in(target))
        return {
            "memory_stats": {"usage": self.own_usage(target) + held, "stats": {"total_inactive_file": 0}},
            "cpu_stats": {"cpu_usage": {"total_usage": int(seconds * 1e9)}},
        }

    def own_usage(self, target: FakeContainer) -> int:
        return self.usage.get(target.id, 8 * 1024**2)

    def start(self, helper: FakeHelper) -> None:
        target = self.target_of(helper)
        if target is not None:
            self._advance(target)
        self.helpers.append(helper)
        if not self.inert and target is not None:
            self._charge(helper, target)

    def end(self, helper: FakeHelper, exit_code: int) -> None:
        target = self.target_of(helper)
        if target is not None:
            self._advance(target)
        helper.memory, helper.cpu = 0, 0.0
        helper.attrs["State"].update(Running=False, Status="exited", ExitCode=exit_code)

    def target_of(self, helper: FakeHelper) -> FakeContainer | None:
        parent = helper.attrs["HostConfig"]["CgroupParent"]
        return next((t for t in self.targets if parent == f"/docker/{t.id}"), None)

    def helpers_in(self, target: FakeContainer) -> list[FakeHelper]:
        return [h for h in self.helpers if h.running and self.target_of(h) is target]

    def _charge(self, helper: FakeHelper, target: FakeContainer) -> None:
        command, host = helper.command, target.attrs["HostConfig"]
        if "--vm" in command:
            workers = int(_option(command, "--vm"))
            share = _option(command, "--vm-bytes") / workers
            limit = int(host.get("Memory") or 0)
            used = self.own_usage(target) + sum(h.memory for h in self.helpers_in(target))
            fit = workers if limit <= 0 else max(0, min(workers, int((limit - used) // share)))
            for _ in range(workers - fit):
                self.oom.append({"id": target.id, "Action": "oom", "timeNano": time.time_ns()})
            if fit == 0:
                self.end(helper, exit_code=2)
                return
            helper.memory = int(fit * share)
        if "--cpu" in command:
            ceiling = float(self.host_cores)
            if host.get("NanoCpus"):
                ceiling = min(ceiling, host["NanoCpus"] / 1e9)
            wanted = _option(command, "--cpu") * _option(command, "--cpu-load", 100) / 100
            busy = self.cpu_rate.get(target.id, 0.0) + sum(h.cpu for h in self.helpers_in(target))
            helper.cpu = max(0.0, min(wanted, ceiling - busy))

    def _advance(self, target: FakeContainer) -> float:
        """The target's CPU seconds so far: its own rate and its helpers', integrated over time."""
        now = time.monotonic()
        seconds, since = self._cpu_seconds.get(target.id, (0.0, now))
        rate = self.cpu_rate.get(target.id, 0.0) + sum(h.cpu for h in self.helpers_in(target))
        seconds += (now - since) * rate
        self._cpu_seconds[target.id] = (seconds, now)
        return seconds


class FakeNetworks:
    """docker's ``client.networks`` over fake containers: ``attach`` puts a container on a network (as
    Compose does), ``get(name).connect/disconnect`` change what its ``NetworkSettings.Networks`` shows;
    with ``inert`` they are accepted and change nothing. ``calls`` lists them in order."""

    def __init__(self, containers: list[FakeContainer]) -> None:
        self.containers = containers
        self.inert = False
        self.calls: list[tuple[str, str, str, tuple[str, ...]]] = []

    @staticmethod
    def attach(container: FakeContainer, network: str, *aliases: str) -> None:
        container.attrs["NetworkSettings"]["Networks"][network] = {
            "Aliases": list(aliases),
            "NetworkID": network,
        }

    def get(self, network_id: str) -> _FakeNetwork:
        return _FakeNetwork(self, network_id)


@dataclass(frozen=True, slots=True)
class _FakeNetwork:
    owner: FakeNetworks
    name: str

    def _container(self, key: str) -> FakeContainer:
        found = next((c for c in self.owner.containers if key in (c.id, c.name) and not c.gone), None)
        if found is None:
            raise docker.errors.NotFound(f"No such container: {key}")
        return found

    def connect(self, container: str, aliases: list[str] | None = None) -> None:
        target = self._container(container)
        self.owner.calls.append(("connect", self.name, target.name, tuple(aliases or ())))
        if not self.owner.inert:
            FakeNetworks.attach(target, self.name, *(aliases or ()))

    def disconnect(self, container: str) -> None:
        target = self._container(container)
        self.owner.calls.append(("disconnect", self.name, target.name, ()))
        if not self.owner.inert:
            target.attrs["NetworkSettings"]["Networks"].pop(self.name, None)


class _FakeContainers:
    """docker's ``client.containers``: helpers by name or id, and the engine's targets by id."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def run(self, image: str, command: list[str], **options: Any) -> FakeHelper:
        name = options["name"]
        if any(h.name == name and not h.removed for h in self.engine.helpers):
            raise docker.errors.APIError(f"Conflict: the container name {name} is already in use")
        helper = FakeHelper(self.engine, name, command, {"image": image, **options})
        self.engine.start(helper)
        return helper

    def get(self, key: str) -> Any:
        for helper in self.engine.helpers:
            if key in (helper.name, helper.id) and not helper.removed:
                return helper
        for target in self.engine.targets:
            if key == target.id and not target.gone:
                return target
        raise docker.errors.NotFound(f"No such container: {key}")

    def list(self, all: bool = False, filters: dict[str, Any] | None = None) -> Sequence[FakeHelper]:
        wanted = dict(f.split("=", 1) for f in (filters or {}).get("label", ()))
        return [
            h
            for h in self.engine.helpers
            if not h.removed and (all or h.running) and wanted.items() <= h.attrs["Config"]["Labels"].items()
        ]


class _FakeImages:
    """docker's ``client.images``: the stress helper's image, built and up to date."""

    def get(self, name: str) -> Any:
        from harness.faults.stress import IMAGE
        from harness.images import INPUTS_LABEL, inputs_hash

        if name != IMAGE.image:
            raise docker.errors.ImageNotFound(f"No such image: {name}")
        return type("Image", (), {"labels": {INPUTS_LABEL: inputs_hash(IMAGE)}})()


class FakeNetns:
    """Containers' network namespaces as ``ip -o link show`` and ``iptables`` show them, by main pid: ``add``
    gives a pid its interfaces (name -> MAC); ``rules`` lists what iptables would (``-A CHAIN ...``), newest
    first. ``remote`` refuses every pid as not this host's; ``inert`` accepts ``-I``/``-D`` and changes
    nothing; ``failing`` names iptables operations (``-I``, ``-D``) that exit non-zero. ``calls`` lists the
    commands, by pid."""

    def __init__(self) -> None:
        self.links: dict[int, dict[str, str]] = {}
        self.rules: dict[int, list[str]] = {}
        self.calls: list[tuple[int, tuple[str, ...]]] = []
        self.remote = False
        self.inert = False
        self.failing: set[str] = set()

    def add(self, container: FakeContainer, pid: int, **links: str) -> None:
        """``container``'s main process is ``pid``, its namespace holding ``links`` (name=MAC)."""
        container.attrs["State"]["Pid"] = pid
        self.links[pid] = dict(links)
        self.rules[pid] = []

    def run(self, container_id: str, pid: int, argv: Sequence[str]) -> str:
        from harness.faults.base import FaultError, FaultRefused

        if self.remote:
            raise FaultRefused(f"process {pid} of container {container_id[:12]} is not on this host")
        self.calls.append((pid, tuple(argv)))
        if pid not in self.links:
            raise FaultError(f"nsenter: cannot open /proc/{pid}/ns/net: No such file or directory")
        if list(argv[:3]) == ["ip", "-o", "link"]:
            lines = [
                "1: lo: <LOOPBACK,UP> mtu 65536 \\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
            ]
            lines += [
                f"{n}: {name}@if{n + 100}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP "
                f"\\    link/ether {mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0"
                for n, (name, mac) in enumerate(self.links[pid].items(), start=2)
            ]
            return "\n".join(lines) + "\n"
        operation, chain, rest = argv[1], argv[2], list(argv[3:])
        rules = self.rules[pid]
        if operation == "-S":
            return "\n".join([f"-P {chain} ACCEPT", *(r for r in rules if r.split()[1] == chain)]) + "\n"
        if operation in self.failing:
            raise FaultError(f"iptables {operation} exited 1: iptables: Bad rule")
        rule = " ".join(["-A", chain, *rest])
        if self.inert:
            return ""
        if operation == "-I":
            rules.insert(0, rule)
        elif operation == "-D":
            if rule not in rules:
                raise FaultError("iptables -D exited 1: Bad rule (does a matching rule exist in that chain?)")
            rules.remove(rule)
        return ""
