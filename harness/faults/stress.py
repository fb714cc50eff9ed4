"""Resource pressure inside the target's own cgroups: ``memory_pressure`` and ``cpu_pressure``.

A helper container (image ``harness/stress:local``: Debian's stress-ng, built from ``harness/images/stress``
on first use) runs with ``--cgroup-parent`` set to the target container's own cgroup, so every page it
touches and every cycle it burns is charged to the target: the target's own limits are what is pressed,
and the target's image needs no tool of ours (Pumba's ``stress`` works the same way). Measured on dockerd
20.10, cgroup v1, cgroupfs driver, kernel 6.18:

- memory the helper touches shows in the target's ``memory.usage_in_bytes`` and in the engine's stats of
  the target, and is bounded by the target's limit: past it the OOM killer takes a stress-ng worker
  (stress-ng gives its workers ``oom_score_adj`` 1000), not the target's own processes, and the engine
  reports an ``oom`` event for the target (and one for the helper);
- the helper's CPU time counts in the target's cpuacct, under the target's CFS quota and cpuset;
- stress-ng's own processes add about 4 MiB, plus about 1 MiB per worker, to the target's usage; outside the
  target's cgroup the helper costs its containerd shim, about 13 MiB RSS (3 MiB PSS).

The target's cgroup is ``<HostConfig.CgroupParent, else /docker>/<id>`` under the cgroupfs driver and cgroup
v1. Elsewhere it is refused, untested: under the systemd driver a container's cgroup is a scope, under which
Docker nests nothing; under cgroup v2 a cgroup that holds processes cannot have a child with the memory
controller. A dockerd started with its own ``--cgroup-parent`` puts containers elsewhere than ``/docker``:
the engine does not say so, and the proof fails naming the cgroup.

``memory_pressure`` (``bytes``, or ``fraction_of_limit`` of the target's limit; ``ramp``): ``stress-ng --vm 4
--vm-bytes N --vm-keep --vm-hang 0 --oomable --backoff B``, four workers of N/4 started ``ramp``/3 s apart,
each touching its share once and then holding it without burning CPU. A worker the OOM killer takes is not
respawned (``--oomable``), so past the limit the others stay and hold the target within a quarter of N of
its limit. Proof: the target's working set (usage less inactive file cache, as cAdvisor) rose by at least
90 % of N; or N does not fit and, once every worker started, the OOM killer has fired inside the target's
limit while the helper still holds memory. A helper whose workers were all killed has ended: FaultError.

``cpu_pressure`` (``workers``, ``load`` percent): ``stress-ng --cpu W --cpu-load P``. Proof: the target's CPU
usage rate over 1 s rose by at least half of what the workers can add within its quota and cpuset (refused
when the target already uses all of it: no rise could show).

The helper is named before it starts (``harness-<kind>-<target id>``, so the journal entry written before
``inject()`` names it) and labelled (``harness.helper=stress``, the target's container id, service and
project, the run id), so ``harness clean`` removes it after a SIGKILL, from the journal or by its label.
``in_force()``: the helper still runs. ``revert()`` removes it (gone already is fine).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import docker.errors

from harness.catalogue.model import FaultSpec
from harness.containers import PROJECT_LABEL
from harness.errors import HarnessError
from harness.faults.base import FaultError, FaultRecord, FaultRefused
from harness.faults.burst import HELPER_LABEL, HELPER_PROJECT_LABEL
from harness.faults.container import DOCKER_ERRORS, ContainerHandle, container_state
from harness.images import INPUTS_LABEL, ImageBuild, build_images, inputs_hash
from harness.lint.units import format_bytes, parse_cpuset

PressureKind = Literal["memory_pressure", "cpu_pressure"]
IMAGE_DIR = Path(__file__).resolve().parents[1] / "images" / "stress"
IMAGE = ImageBuild("harness/stress:local", IMAGE_DIR, IMAGE_DIR / "Dockerfile")
HELPER = "stress"
"""This helper's value of the label every harness helper carries (``HELPER_LABEL``, bursts' too)."""
TARGET_ID_LABEL = "harness.target-id"
MEMORY_WORKERS = 4
MEMORY_TOLERANCE = 0.9
"""The share of the amount the target's working set must rise by (stress-ng itself adds a few MiB more;
the kernel may reclaim some of the target's own file pages under pressure)."""
CPU_TOLERANCE = 0.5
"""The share of the CPU the workers can add that the target's usage rate must rise by."""
MIN_CPU_RISE = 0.05
"""Cores: a smaller possible rise cannot be told from the target's own variation."""
POLL_INTERVAL = 0.25
OOM_SETTLE = 1.0
"""Seconds after the first OOM event before a helper still holding memory proves pressure past the limit:
by then the workers the OOM killer took have gone (measured: well under a second)."""
CGROUP_ROOT = Path("/sys/fs/cgroup")


class Helper(Protocol):
    """The part of docker's ``Container`` a helper is handled through (also the target, when looked up)."""

    id: str
    name: str
    attrs: dict[str, Any]

    def reload(self) -> None: ...
    def remove(self, force: bool = False) -> None: ...
    def logs(self, tail: int) -> bytes: ...


class Containers(Protocol):
    def run(self, image: str, command: list[str], **options: Any) -> Helper: ...
    def get(self, container_id: str) -> Helper: ...
    def list(self, all: bool = False, filters: Mapping[str, Any] | None = None) -> Sequence[Helper]: ...


class StatsApi(Protocol):
    def stats(self, container: str, stream: bool = True, one_shot: bool | None = None) -> Any: ...


class Image(Protocol):
    labels: Mapping[str, str]


class Images(Protocol):
    def get(self, name: str) -> Image: ...


class Engine(Protocol):
    """The part of docker's ``DockerClient`` the pressure faults use (FakeEngine in fake.py)."""

    @property
    def containers(self) -> Containers: ...

    @property
    def images(self) -> Images: ...

    @property
    def api(self) -> StatsApi: ...

    def info(self) -> dict[str, Any]: ...

    def events(
        self,
        since: int | None = None,
        until: int | None = None,
        filters: Mapping[str, Any] | None = None,
        decode: bool | None = None,
    ) -> Iterable[Mapping[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class MemoryLoad:
    """What ``memory_pressure`` presses: ``bytes``, or ``fraction_of_limit`` of the target's limit."""

    bytes: int = 0
    fraction_of_limit: float = 0.0
    ramp: float = 0.0
    """Seconds until the whole amount is held (workers start ``ramp``/3 apart)."""

    def amount(self, limit: int, what: str) -> int:
        if self.bytes:
            return self.bytes
        if limit <= 0:
            raise FaultRefused(f"cannot press {what} to {self.fraction_of_limit:g} of its limit: it has none")
        return round(self.fraction_of_limit * limit)

    def text(self, limit: int) -> str:
        if self.bytes:
            share = f" ({self.bytes / limit:.2g} of its {format_bytes(limit)} limit)" if limit > 0 else ""
            amount = f"{format_bytes(self.bytes)}{share}"
        else:
            amount = (
                f"{self.fraction_of_limit:g} of its {format_bytes(limit) if limit > 0 else 'missing'} limit"
            )
        return amount + (f", reached over {self.ramp:g} s" if self.ramp else "")

    def argv(self, amount: int) -> list[str]:
        backoff_us = round(self.ramp / (MEMORY_WORKERS - 1) * 1e6)
        return [
            *("--vm", str(MEMORY_WORKERS), "--vm-bytes", str(amount), "--vm-keep", "--vm-hang", "0"),
            *("--oomable", "--backoff", str(backoff_us)),
        ]


@dataclass(frozen=True, slots=True)
class CpuLoad:
    """What ``cpu_pressure`` burns: ``workers`` busy ``load`` percent of the time."""

    workers: int = 1
    load: float = 100.0

    @property
    def cores(self) -> float:
        return self.workers * self.load / 100

    def text(self) -> str:
        return f"{self.workers} worker{'s' if self.workers != 1 else ''} at {self.load:g} %"

    def argv(self) -> list[str]:
        return ["--cpu", str(self.workers), "--cpu-load", str(round(self.load))]


@dataclass(frozen=True, slots=True)
class Usage:
    """The target's numbers as the engine reports them."""

    working_set: int
    cpu_seconds: float
    at: float
    """``time.monotonic()`` when read."""


def read_usage(engine: Engine, container_id: str, what: str) -> Usage:
    """The container's working set (usage less inactive file cache, cAdvisor's) and CPU time, from the
    engine's one-shot stats (cgroup v1 and v2 shapes)."""
    try:
        stats = engine.api.stats(container_id, stream=False, one_shot=True)
    except DOCKER_ERRORS as exc:
        raise FaultError(f"{what}: the target's stats cannot be read: {exc}") from exc
    at = time.monotonic()
    memory = stats.get("memory_stats") or {}
    cpu = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    if "usage" not in memory or "total_usage" not in cpu:
        raise FaultError(f"{what}: the engine has no memory or CPU stats of the target (not running?)")
    details = memory.get("stats") or {}
    inactive = int(details.get("total_inactive_file", details.get("inactive_file", 0)))
    return Usage(max(int(memory["usage"]) - inactive, 0), int(cpu["total_usage"]) / 1e9, at)


def _rate(earlier: Usage, later: Usage) -> float:
    """Cores used between two readings."""
    return (later.cpu_seconds - earlier.cpu_seconds) / max(later.at - earlier.at, 1e-6)


def cpu_ceiling(host_config: Mapping[str, Any], host_cores: int) -> float:
    """The cores a container may use at most: the host's, its CFS quota's (``--cpus``), its cpuset's."""
    cores = float(host_cores)
    nano = int(host_config.get("NanoCpus") or 0)
    quota, period = int(host_config.get("CpuQuota") or 0), int(host_config.get("CpuPeriod") or 100_000)
    if nano > 0:
        cores = min(cores, nano / 1e9)
    elif quota > 0:
        cores = min(cores, quota / period)
    cpuset = str(host_config.get("CpusetCpus") or "")
    if cpuset:
        cores = min(cores, float(len(parse_cpuset(cpuset))))
    return cores


def oom_kills(engine: Engine, container_id: str, since: float, complete: bool = False) -> int:
    """OOM events the engine reported for the container since ``since`` (unix seconds): up to the last whole
    second, which the engine answers at once; ``complete``, up to now, waiting for this second to end."""
    events = engine.events(
        since=int(since),
        until=int(time.time()) + 1 if complete else max(int(since), int(time.time())),
        filters={"type": ["container"], "container": [container_id], "event": ["oom"]},
        decode=True,
    )
    return sum(1 for event in events if int(event.get("timeNano") or 0) >= since * 1e9)


def cgroup_parent(engine: Engine, target: ContainerHandle) -> str:
    """The target's own cgroup, to run the helper inside; FaultRefused where that is not known to work."""
    info = engine.info()
    version, driver = str(info.get("CgroupVersion") or "1"), str(info.get("CgroupDriver") or "")
    if version != "1" or driver != "cgroupfs":
        raise FaultRefused(
            f"pressure inside a container's cgroup needs cgroup v1 with the cgroupfs driver; this engine "
            f"has cgroup v{version} with the {driver or 'unknown'} driver (untested, see harness/faults/stress.py)"
        )
    parent = str(target.attrs.get("HostConfig", {}).get("CgroupParent") or "/docker")
    return f"{parent.rstrip('/')}/{target.id}"


def ensure_image(engine: Engine, what: str) -> None:
    """Build the helper's image unless the engine has it with today's inputs (the label harness/images.py
    sets), so that a run builds it once, on its first pressure fault."""
    try:
        current = (engine.images.get(IMAGE.image).labels or {}).get(INPUTS_LABEL)
    except docker.errors.NotFound:
        current = None
    except DOCKER_ERRORS as exc:
        raise FaultError(f"{what}: the stress helper's image cannot be read: {exc}") from exc
    if current == inputs_hash(IMAGE):
        return
    try:
        build_images([IMAGE])
    except HarnessError as exc:
        raise FaultError(f"{what}: the stress helper's image cannot be built: {exc}") from exc


def helper_name(kind: str, container_id: str) -> str:
    return f"harness-{kind.replace('_', '-')}-{container_id[:12]}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the proof found, for describe() once it is known (the fault itself is frozen)."""

    found: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PressureFault:
    kind: PressureKind
    target: str
    """The compose service."""
    container: ContainerHandle | None = field(compare=False, repr=False)
    """The target's container; None for a fault rebuilt from the journal, which can only be reverted."""
    engine: Engine = field(compare=False, repr=False)
    helper: str
    """The helper container's name (known before it starts, so the journal can name it)."""
    memory: MemoryLoad | None = None
    cpu: CpuLoad | None = None
    run_id: str = ""
    settle_timeout: float = 30.0
    """Seconds the pressure may take to show once the ramp is done."""
    cpu_sample: float = 1.0
    """Seconds over which a CPU usage rate is measured."""
    outcome: _Outcome = field(default_factory=_Outcome, compare=False, repr=False)

    def describe(self) -> str:
        found = f": {self.outcome.found[-1]}" if self.outcome.found else ""
        if self.container is None:
            return f"{self.kind} on service {self.target} (helper {self.helper})"
        if self.memory is not None:
            limit = int(self.container.attrs.get("HostConfig", {}).get("Memory") or 0)
            what = f"memory pressure on service {self.target}: {self.memory.text(limit)}"
        else:
            assert self.cpu is not None
            what = f"CPU pressure on service {self.target}: {self.cpu.text()}"
        return f"{what}, inside its cgroup (helper {self.helper}){found}"

    def record(self) -> FaultRecord:
        return FaultRecord(self.kind, self.target, self.helper)

    def inject(self) -> None:
        target = self.container
        if target is None:
            raise FaultError(f"{self.describe()}: a fault rebuilt from the journal is only reverted")
        try:
            state = container_state(target)
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: the target cannot be read: {exc}") from exc
        if not state.get("Running") or state.get("Paused"):
            raise FaultRefused(f"cannot apply {self.describe()}: the target is {state.get('Status')}")
        if self._helper() is not None:
            raise FaultRefused(
                f"cannot apply {self.describe()}: helper {self.helper} is there already (`harness clean`)"
            )
        try:
            parent = cgroup_parent(self.engine, target)
            ensure_image(self.engine, self.describe())
            if self.memory is not None:
                self._press_memory(target, self.memory, parent)
            else:
                assert self.cpu is not None
                self._press_cpu(target, self.cpu, parent)
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: the engine failed: {exc}") from exc

    def _press_memory(self, target: ContainerHandle, load: MemoryLoad, parent: str) -> None:
        limit = int(target.attrs.get("HostConfig", {}).get("Memory") or 0)
        amount = load.amount(limit, f"service {self.target}")
        base = read_usage(self.engine, target.id, self.describe())
        since = time.time()
        self._start(target, parent, load.argv(amount))
        started = time.monotonic()
        first_oom: float | None = None
        while True:
            now = read_usage(self.engine, target.id, self.describe())
            rise = now.working_set - base.working_set
            if rise >= MEMORY_TOLERANCE * amount:
                self.outcome.found.append(
                    f"its working set rose by {format_bytes(rise)} in {now.at - started:.1f} s "
                    f"({format_bytes(base.working_set)} -> {format_bytes(now.working_set)})"
                )
                return
            kills = oom_kills(self.engine, target.id, since)
            if not self.in_force():
                raise FaultError(
                    self._ended(oom_kills(self.engine, target.id, since, complete=True), amount, limit)
                )
            first_oom = now.at if kills and first_oom is None else first_oom
            # Past the limit: once every worker started and a moment after the first OOM (the workers killed
            # are gone by then), the helper still holds at least one worker's share.
            if (
                first_oom is not None
                and now.at - started >= load.ramp
                and now.at - first_oom >= OOM_SETTLE
                and rise >= MEMORY_TOLERANCE * amount / MEMORY_WORKERS
            ):
                self.outcome.found.append(
                    f"pressed to its limit: working set {format_bytes(now.working_set)} of {format_bytes(limit)}, "
                    f"{kills} OOM event(s) inside its limit"
                )
                return
            if now.at - started > load.ramp + self.settle_timeout + OOM_SETTLE:
                raise FaultError(
                    f"{self.describe()}: the target's working set rose by only {format_bytes(rise)} of "
                    f"{format_bytes(amount)} in {now.at - started:.0f} s (is {parent} its cgroup?)"
                )
            time.sleep(POLL_INTERVAL)

    def _ended(self, kills: int, amount: int, limit: int) -> str:
        helper = self._helper()
        code = helper.attrs.get("State", {}).get("ExitCode") if helper is not None else None
        if kills:
            return (
                f"{self.describe()}: the helper was OOM-killed inside the target's {format_bytes(limit)} limit "
                f"({kills} OOM event(s)): none of its {MEMORY_WORKERS} workers' {format_bytes(amount // MEMORY_WORKERS)} "
                "stayed; ask for less"
            )
        return f"{self.describe()}: the helper ended (exit code {code}): {self._logs(helper)}"

    def _press_cpu(self, target: ContainerHandle, load: CpuLoad, parent: str) -> None:
        host_cores = int(self.engine.info().get("NCPU") or 1)
        ceiling = cpu_ceiling(target.attrs.get("HostConfig", {}), host_cores)
        first = read_usage(self.engine, target.id, self.describe())
        base_rate = _rate(first, self._sample_after(first))
        possible = min(load.cores, ceiling - base_rate)
        if possible < MIN_CPU_RISE:
            raise FaultRefused(
                f"cannot apply {self.describe()}: the target already uses {base_rate:.2f} of its "
                f"{ceiling:g} cores, no rise could show"
            )
        self._start(target, parent, load.argv())
        started = time.monotonic()
        previous = read_usage(self.engine, target.id, self.describe())
        while True:
            now = self._sample_after(previous)
            rate = _rate(previous, now)
            if rate - base_rate >= CPU_TOLERANCE * possible:
                self.outcome.found.append(
                    f"its CPU use rose from {base_rate:.2f} to {rate:.2f} cores (at most {ceiling:g})"
                )
                return
            if not self.in_force():
                raise FaultError(f"{self.describe()}: the helper ended: {self._logs(self._helper())}")
            if now.at - started > self.settle_timeout:
                raise FaultError(
                    f"{self.describe()}: the target's CPU use rose only from {base_rate:.2f} to "
                    f"{rate:.2f} cores in {self.settle_timeout:g} s (wanted +{CPU_TOLERANCE * possible:.2f})"
                )
            previous = now

    def _sample_after(self, previous: Usage) -> Usage:
        """The target's usage ``cpu_sample`` seconds after ``previous``."""
        assert self.container is not None
        time.sleep(max(0.0, previous.at + self.cpu_sample - time.monotonic()))
        return read_usage(self.engine, self.container.id, self.describe())

    def _start(self, target: ContainerHandle, parent: str, argv: list[str]) -> None:
        labels = {
            HELPER_LABEL: HELPER,
            "harness.fault": self.kind,
            "harness.target": self.target,
            TARGET_ID_LABEL: target.id,
            HELPER_PROJECT_LABEL: str(
                (target.attrs.get("Config", {}).get("Labels") or {}).get(PROJECT_LABEL, "")
            ),
            "harness.run": self.run_id,
        }
        try:
            self.engine.containers.run(
                IMAGE.image,
                argv,
                name=self.helper,
                labels=labels,
                detach=True,
                cgroup_parent=parent,
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": "size=1m"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: the helper cannot start: {exc}") from exc

    def _helper(self) -> Helper | None:
        try:
            helper = self.engine.containers.get(self.helper)
            helper.reload()
            return helper
        except docker.errors.NotFound:
            return None
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: the helper cannot be read: {exc}") from exc

    @staticmethod
    def _logs(helper: Helper | None) -> str:
        if helper is None:
            return "(gone)"
        try:
            text = helper.logs(tail=3).decode(errors="replace").strip()
        except DOCKER_ERRORS:
            return "(no logs)"
        return " | ".join(text.splitlines()) or "(no logs)"

    def in_force(self) -> bool:
        helper = self._helper()
        return helper is not None and bool(helper.attrs.get("State", {}).get("Running"))

    def revert(self) -> None:
        remove_helper(self.engine, self.helper)


def remove_helper(engine: Engine, name: str) -> bool:
    """Remove a helper, running or not, and check it is gone; False when it was gone already. When its
    target is gone too, the target's cgroup directories the helper kept alive go with it."""
    try:
        helper = engine.containers.get(name)
        helper.remove(force=True)
    except docker.errors.NotFound:
        return False
    except DOCKER_ERRORS as exc:
        raise FaultError(f"stress helper {name} cannot be removed: {exc}") from exc
    try:
        engine.containers.get(name)
    except docker.errors.NotFound:
        pass
    except DOCKER_ERRORS as exc:
        raise FaultError(f"stress helper {name} cannot be read after its removal: {exc}") from exc
    else:
        raise FaultError(f"stress helper {name} is still there after its removal")
    target_id = str((helper.attrs.get("Config", {}).get("Labels") or {}).get(TARGET_ID_LABEL, ""))
    if target_id and not _exists(engine, target_id):
        remove_orphan_cgroups(str(helper.attrs.get("HostConfig", {}).get("CgroupParent") or ""), target_id)
    return True


def build_pressure(
    spec: FaultSpec, container: ContainerHandle, engine: Engine, run_id: str = ""
) -> PressureFault:
    """The fault a catalogue entry asks for (its attributes validated by the catalogue's parser)."""
    kind: PressureKind = "memory_pressure" if spec.kind == "memory_pressure" else "cpu_pressure"
    memory = cpu = None
    if kind == "memory_pressure":
        memory = MemoryLoad(
            bytes=round(spec.attribute("bytes", 0) or 0),
            fraction_of_limit=spec.attribute("fraction_of_limit", 0.0) or 0.0,
            ramp=spec.attribute("ramp", 0.0) or 0.0,
        )
    else:
        cpu = CpuLoad(
            workers=round(spec.attribute("workers", 1) or 1), load=spec.attribute("load", 100.0) or 100.0
        )
    name = helper_name(kind, container.id)
    return PressureFault(kind, spec.target, container, engine, name, memory, cpu, run_id)


def restore_pressure(kind: str, target: str, helper: str, engine: Engine) -> PressureFault:
    """A pressure fault a crashed run left, from its journal record: it can only be reverted."""
    known: PressureKind = "memory_pressure" if kind == "memory_pressure" else "cpu_pressure"
    return PressureFault(known, target, None, engine, helper)


def sweep_helpers(engine: Engine, stack_ids: set[str], cleaned: list[str], errors: list[str]) -> None:
    """Remove every stress helper whose target is one of the stack's containers (the project's lock says
    no run is using them) or no longer exists (the helper would outlive it, in its cgroup)."""
    try:
        helpers = engine.containers.list(all=True, filters={"label": [f"{HELPER_LABEL}={HELPER}"]})
    except DOCKER_ERRORS as exc:
        errors.append(f"stress helpers cannot be listed: {exc}")
        return
    for helper in helpers:
        labels = helper.attrs.get("Config", {}).get("Labels") or {}
        target_id = str(labels.get(TARGET_ID_LABEL, ""))
        try:
            if target_id not in stack_ids and _exists(engine, target_id):
                continue  # another project's: its own sweep removes it
            if remove_helper(engine, helper.name):
                what = f"{labels.get('harness.fault', 'pressure')} on {labels.get('harness.target', '?')}"
                run = labels.get("harness.run") or "?"
                cleaned.append(f"removed stress helper {helper.name} ({what}, run {run})")
        except FaultError as exc:
            errors.append(str(exc))


def _exists(engine: Engine, container_id: str) -> bool:
    if not container_id:
        return False
    try:
        engine.containers.get(container_id)
    except docker.errors.NotFound:
        return False
    return True


def remove_orphan_cgroups(parent: str, target_id: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """Best effort, on the engine's host: the cgroup directories of a removed target that its helper kept
    (measured: the engine cannot remove a cgroup that has a child, and leaves it behind). Only the target's
    own directory, and only when empty (rmdir), so nothing live can be touched."""
    relative = parent.strip("/")
    parts = relative.split("/")
    if not target_id or parts[-1] != target_id or ".." in parts or not root.is_dir():
        return []
    removed = []
    for controller in sorted(root.iterdir()):
        path = controller / relative
        try:
            path.rmdir()
        except OSError:
            continue
        removed.append(path)
    return removed
