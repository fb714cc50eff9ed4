"""Prometheus text exposition of container samples, with cAdvisor's names and label scheme."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .samples import CONTAINER_STATES, HEALTH_STATES, ContainerSample, Usage

_INVALID = re.compile(r"[^a-zA-Z0-9_]")

Labels = tuple[tuple[str, str], ...]
Line = tuple[Labels, float]


def sanitize_label(key: str) -> str:
    """Docker label -> Prometheus label name, as cAdvisor does: container_label_<non [a-zA-Z0-9_] -> _>."""
    return "container_label_" + _INVALID.sub("_", key)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def container_labels(sample: ContainerSample) -> Labels:
    labels: dict[str, str] = {"id": f"/docker/{sample.id}", "image": sample.image, "name": sample.name}
    for key, value in sample.labels:  # sorted: on a sanitizing collision the first key wins
        labels.setdefault(sanitize_label(key), value)
    return tuple(labels.items())


def format_value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


def format_line(name: str, labels: Labels, value: float) -> str:
    inner = ",".join(f'{key}="{escape(val)}"' for key, val in labels)
    return f"{name}{{{inner}}} {format_value(value)}" if inner else f"{name} {format_value(value)}"


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: str  # gauge | counter
    help: str
    lines: Callable[[ContainerSample, Labels, Mapping[str, int], float], Iterable[Line]]


def _one(value: Callable[[ContainerSample], float]) -> Callable[..., Iterable[Line]]:
    return lambda s, labels, _oom, _now: [(labels, value(s))]


def _usage(value: Callable[[Usage], float]) -> Callable[..., Iterable[Line]]:
    return lambda s, labels, _oom, _now: [(labels, value(s.usage))] if s.usage is not None else []


def _net(rx: bool) -> Callable[..., Iterable[Line]]:
    def lines(s: ContainerSample, labels: Labels, _oom: Mapping[str, int], _now: float) -> Iterable[Line]:
        if s.usage is None:
            return []
        return [
            ((*labels, ("interface", i.name)), i.rx_bytes if rx else i.tx_bytes) for i in s.usage.interfaces
        ]

    return lines


def _one_hot(
    current: Callable[[ContainerSample], str], label: str, choices: tuple[str, ...]
) -> Callable[..., Iterable[Line]]:
    def lines(s: ContainerSample, labels: Labels, _oom: Mapping[str, int], _now: float) -> Iterable[Line]:
        value = current(s)
        return [((*labels, (label, choice)), 1 if choice == value else 0) for choice in choices]

    return lines


FAMILIES = (
    Family(
        "container_memory_usage_bytes",
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
        _usage(lambda u: u.memory_usage_bytes),
    ),
    Family(
        "container_memory_working_set_bytes",
        "gauge",
        "Current working set in bytes (usage minus inactive file cache)",
        _usage(lambda u: u.memory_working_set_bytes),
    ),
    Family(
        "container_spec_memory_limit_bytes",
        "gauge",
        "Memory limit for the container (0 = unlimited)",
        _one(lambda s: s.memory_limit_bytes),
    ),
    Family(
        "container_spec_memory_reservation_limit_bytes",
        "gauge",
        "Memory reservation (soft limit) for the container (0 = none)",
        _one(lambda s: s.memory_reservation_bytes),
    ),
    Family(
        "container_cpu_usage_seconds_total",
        "counter",
        "Cumulative cpu time consumed in seconds",
        _usage(lambda u: u.cpu_usage_seconds),
    ),
    Family(
        "container_spec_cpu_quota",
        "gauge",
        "CPU quota of the container in microseconds per period (0 = unlimited)",
        _one(lambda s: s.cpu_quota_us),
    ),
    Family(
        "container_spec_cpu_period",
        "gauge",
        "CPU period of the container in microseconds",
        _one(lambda s: s.cpu_period_us),
    ),
    Family(
        "container_spec_cpuset_cpus_info",
        "gauge",
        "The cores the container may run on (its cpuset, else every core of the host) as the label cpus; "
        "pinned says whether a cpuset was set (cAdvisor has no such series)",
        lambda s, labels, _oom, _now: (
            [((*labels, ("cpus", s.cpus), ("pinned", "true" if s.pinned else "false")), 1)] if s.cpus else []
        ),
    ),
    Family(
        "container_network_receive_bytes_total",
        "counter",
        "Cumulative count of bytes received",
        _net(rx=True),
    ),
    Family(
        "container_network_transmit_bytes_total",
        "counter",
        "Cumulative count of bytes transmitted",
        _net(rx=False),
    ),
    Family(
        "container_last_seen",
        "gauge",
        "Last time the container was seen by the exporter (unix seconds)",
        lambda s, labels, _oom, now: [(labels, now)],
    ),
    Family(
        "container_restart_count",
        "gauge",
        "Times Docker restarted the container (RestartCount)",
        _one(lambda s: s.restart_count),
    ),
    Family(
        "container_oom_killed",
        "gauge",
        "1 if the container's last exit was an OOM kill (State.OOMKilled)",
        _one(lambda s: s.oom_killed),
    ),
    Family(
        "container_oom_events_total",
        "counter",
        "OOM events of the container seen since the exporter started (docker events)",
        lambda s, labels, oom, _now: [(labels, oom.get(s.id, 0))],
    ),
    Family(
        "container_health_status",
        "gauge",
        "1 for the container's current health status",
        _one_hot(lambda s: s.health, "status", HEALTH_STATES),
    ),
    Family(
        "container_state",
        "gauge",
        "1 for the container's current state",
        _one_hot(lambda s: s.state, "state", CONTAINER_STATES),
    ),
)


def _family_text(name: str, kind: str, help_text: str, lines: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]


def _document(out: list[str]) -> str:
    return "\n".join(out) + "\n" if out else ""


def render_containers(
    samples: Iterable[ContainerSample], oom_events: Mapping[str, int], seen_at: float
) -> str:
    """All container families; a family with no line is left out."""
    labelled = [(s, container_labels(s)) for s in samples]
    out: list[str] = []
    for family in FAMILIES:
        lines = [
            format_line(family.name, labels, value)
            for sample, base in labelled
            for labels, value in family.lines(sample, base, oom_events, seen_at)
        ]
        if lines:
            out += _family_text(family.name, family.kind, family.help, lines)
    return _document(out)


def render_gauges(values: Iterable[tuple[str, str, str, float]]) -> str:
    """Unlabelled self-metrics: (name, kind, help, value)."""
    out: list[str] = []
    for name, kind, text, value in values:
        out += _family_text(name, kind, text, [format_line(name, (), value)])
    return _document(out)
