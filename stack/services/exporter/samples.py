"""One container's numbers, taken from Docker's inspect and stats JSON (cgroup v1 and v2 shapes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEALTH_STATES = ("healthy", "unhealthy", "starting", "none")
CONTAINER_STATES = ("running", "paused", "exited", "restarting", "created", "dead")
DEFAULT_CPU_PERIOD_US = 100_000  # the CFS period Docker uses for --cpus


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True, slots=True)
class Usage:
    """Live numbers, present only for a running or paused container."""

    memory_usage_bytes: int
    memory_working_set_bytes: int
    cpu_usage_seconds: float
    interfaces: tuple[Interface, ...]


@dataclass(frozen=True, slots=True)
class ContainerSample:
    id: str
    name: str
    image: str
    labels: tuple[tuple[str, str], ...]  # docker labels, sorted
    state: str  # Docker's State.Status
    health: str  # one of HEALTH_STATES
    restart_count: int
    oom_killed: bool
    memory_limit_bytes: int  # 0 = unlimited (as cAdvisor reports it)
    memory_reservation_bytes: int  # 0 = none
    cpu_quota_us: int  # 0 = unlimited
    cpu_period_us: int
    usage: Usage | None
    cpus: str = ""  # the cores it may run on, as Docker writes a cpuset ("0-1"); "" when unknown
    pinned: bool = False  # a cpuset was set (HostConfig.CpusetCpus); else cpus is every core of the host


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def cpu_limits(host_config: Mapping[str, Any]) -> tuple[int, int]:
    """(quota, period) in microseconds as the cgroup has them: --cpus (NanoCpus) becomes a CFS quota."""
    quota = _int(host_config.get("CpuQuota"))
    period = _int(host_config.get("CpuPeriod"))
    nano = _int(host_config.get("NanoCpus"))
    if nano > 0:
        period = DEFAULT_CPU_PERIOD_US
        quota = nano * period // 1_000_000_000
    return max(quota, 0), period or DEFAULT_CPU_PERIOD_US


def usage_from_stats(stats: Mapping[str, Any]) -> Usage | None:
    memory = _mapping(stats.get("memory_stats"))
    cpu = _mapping(_mapping(stats.get("cpu_stats")).get("cpu_usage"))
    if "usage" not in memory or "total_usage" not in cpu:
        return None  # a stopped container's stats are empty
    usage = _int(memory.get("usage"))
    details = _mapping(memory.get("stats"))
    # cAdvisor's working set: usage minus inactive file cache (v1 total_inactive_file, v2 inactive_file).
    inactive = _int(details.get("total_inactive_file", details.get("inactive_file", 0)))
    working_set = max(usage - inactive, 0)
    interfaces = tuple(
        Interface(name, _int(_mapping(data).get("rx_bytes")), _int(_mapping(data).get("tx_bytes")))
        for name, data in sorted(_mapping(stats.get("networks")).items())
    )
    return Usage(usage, working_set, _int(cpu.get("total_usage")) / 1e9, interfaces)


def cpuset(host_config: Mapping[str, Any], host_cores: int | None) -> tuple[str, bool]:
    """(the cores a container may run on, whether it is pinned): its cpuset, else every core of the host
    (``0-<n-1>``, when the host's core count is known; else "")."""
    pinned = str(host_config.get("CpusetCpus") or "").strip()
    if pinned:
        return pinned, True
    if not host_cores:
        return "", False
    return ("0" if host_cores == 1 else f"0-{host_cores - 1}"), False


def sample_from_docker(
    inspect: Mapping[str, Any], stats: Mapping[str, Any] | None, host_cores: int | None = None
) -> ContainerSample:
    state = _mapping(inspect.get("State"))
    config = _mapping(inspect.get("Config"))
    host_config = _mapping(inspect.get("HostConfig"))
    health = _mapping(state.get("Health")).get("Status") or "none"
    labels = _mapping(config.get("Labels"))
    quota, period = cpu_limits(host_config)
    cpus, pinned = cpuset(host_config, host_cores)
    status = str(state.get("Status") or "created")
    return ContainerSample(
        id=str(inspect.get("Id", "")),
        name=str(inspect.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        state=status,
        health=health if health in HEALTH_STATES else "none",
        restart_count=_int(inspect.get("RestartCount")),
        oom_killed=bool(state.get("OOMKilled")),
        memory_limit_bytes=max(_int(host_config.get("Memory")), 0),
        memory_reservation_bytes=max(_int(host_config.get("MemoryReservation")), 0),
        cpu_quota_us=quota,
        cpu_period_us=period,
        usage=usage_from_stats(stats) if status in ("running", "paused") and stats is not None else None,
        cpus=cpus,
        pinned=pinned,
    )
