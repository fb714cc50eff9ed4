"""The engine's container events, counted per compose service as Prometheus series.

cAdvisor (and the reference stack's exporter, which copies it) has no restart count, exit code or health
status; the Docker engine announces each in its event stream. ``EventTally`` is pure: it is fed decoded
events (``docker.events(decode=True)`` dicts) and what inspecting a container said, and renders the series
below. Every series carries cAdvisor's labels for a container's compose project and service, so a query can
join them with container metrics and the resource analyzers' ``container_label`` default applies:

    harness_container_starts_total                     every start (the engine's own, and by hand)
    harness_container_restarts_total                   restarts the engine made by its restart policy
                                                       (its RestartCount rising; a start by hand resets it)
    harness_container_exits_total{exit_code}           every exit, by exit code (137: SIGKILL)
    harness_container_oom_kills_total                  the engine's ``oom`` events
    harness_container_health_status{status}            1 for the current health (starting|healthy|unhealthy)
    harness_container_health_changes_total{status}     transitions into each health status
    harness_container_last_start_timestamp_seconds     unix time of the last start (0: none seen)
    harness_container_last_exit_timestamp_seconds      unix time of the last exit (0: none seen)
    harness_container_last_restart_delay_seconds       exit -> policy restart of the last restart
    harness_container_last_stop_duration_seconds       first stop signal (``kill`` event) -> exit, of the
                                                       last exit a signal preceded (SIGTERM to exit 0, or to
                                                       the SIGKILL at the end of the grace period)
    harness_container_stop_timeout_seconds             the grace a stop gives (compose stop_grace_period)
    harness_container_restart_delay_honoured           1 when the service runs as Swarm tasks, whose
                                                       orchestrator honours restart_policy.delay and .window

Under Swarm a failed task is not restarted: Swarm starts a new task, a new container whose RestartCount is
0. There a restart is the start of a task's container (label ``com.docker.swarm.task.id``) of a service
whose previous container exited since its last start, and its delay runs from that exit. A task the
harness forced to bring the service back (``docker service update --force``, label ``harness.revived``
with a new value) is a start, not a restart, as a ``docker start`` under Compose.

Every service of the project is declared when the follower starts, so a series at zero means "nothing
happened", never "nobody looked".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from harness.containers import SERVICE_LABEL

LABELS = ("container_label_com_docker_compose_project", "container_label_com_docker_compose_service")
"""cAdvisor's names for the two docker labels."""
HEALTH_STATUSES = ("starting", "healthy", "unhealthy")
COUNTERS = ("starts", "restarts", "exits", "oom_kills", "health_changes")
DOCKER_STOP_TIMEOUT = 10.0
"""Docker's grace when the container sets none."""
SWARM_TASK_LABEL = "com.docker.swarm.task.id"
REVIVED_LABEL = "harness.revived"
"""Swarm: the task was forced by the harness reviving the service (a value per revival), not restarted."""


@dataclass(slots=True)
class _Service:
    """What has been seen of one compose service (all its containers) since the follower started."""

    starts: int = 0
    restarts: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    oom_kills: int = 0
    health: str = ""
    health_changes: dict[str, int] = field(default_factory=dict)
    last_start: float = 0.0
    last_exit: float = 0.0
    last_restart_delay: float = 0.0
    last_stop_duration: float = 0.0
    stop_timeout: float = DOCKER_STOP_TIMEOUT
    swarm: bool = False
    """Its containers are Swarm tasks: replaced, not restarted."""
    exited_since_start: float | None = None
    """Swarm: when a task's container of the service last exited, if no container started since."""
    revived: str = ""
    """Swarm: the last revival label seen on a start."""


@dataclass(slots=True)
class _Container:
    service: str
    restart_count: int
    signalled_at: float | None = None
    """When the first stop signal since the container's last start came (a ``kill`` event)."""
    exited_at: float | None = None


def stop_timeout(attrs: Mapping[str, Any]) -> float:
    """The grace a stop gives a container, from its inspect attributes."""
    value = (attrs.get("Config") or {}).get("StopTimeout")
    return float(value) if value is not None else DOCKER_STOP_TIMEOUT


class EventTally:
    """Thread-safe: the follower's reader feeds it while its pusher renders it."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._services: dict[str, _Service] = {}
        self._containers: dict[str, _Container] = {}

    def declare(self, container_id: str, attrs: Mapping[str, Any]) -> None:
        """A container that exists when following starts, or that just appeared, from its inspect
        attributes: its service gets zero series, its RestartCount becomes the baseline."""
        service = ((attrs.get("Config") or {}).get("Labels") or {}).get(SERVICE_LABEL)
        if not service:
            return
        state = attrs.get("State") or {}
        with self._lock:
            entry = self._services.setdefault(service, _Service())
            entry.stop_timeout = stop_timeout(attrs)
            entry.swarm = entry.swarm or SWARM_TASK_LABEL in ((attrs.get("Config") or {}).get("Labels") or {})
            health = (state.get("Health") or {}).get("Status")
            if health in HEALTH_STATUSES:
                entry.health = health
            known = self._containers.get(container_id)
            if known is None:
                self._containers[container_id] = _Container(service, int(attrs.get("RestartCount") or 0))

    def observe(self, event: Mapping[str, Any], restart_count: int | None = None) -> None:
        """One decoded engine event; ``restart_count`` is the container's RestartCount read after a
        ``start`` event (None for other events, or when the container was gone before it was read)."""
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        service = attributes.get(SERVICE_LABEL)
        if event.get("Type") != "container" or not service:
            return
        at = int(event.get("timeNano") or 0) / 1e9 or float(event.get("time") or 0)
        action = str(event.get("Action") or "")
        with self._lock:
            entry = self._services.setdefault(service, _Service())
            container = self._containers.setdefault(str(actor.get("ID")), _Container(service, 0))
            self._apply(entry, container, action, attributes, at, restart_count)

    def _apply(
        self,
        entry: _Service,
        container: _Container,
        action: str,
        attributes: Mapping[str, str],
        at: float,
        restart_count: int | None,
    ) -> None:
        swarm_task = SWARM_TASK_LABEL in attributes
        entry.swarm = entry.swarm or swarm_task
        revival = str(attributes.get(REVIVED_LABEL, ""))
        by_hand = revival != entry.revived  # the first task of a revival: started by the harness
        if action == "start" and swarm_task:
            entry.revived = revival
        if action == "start" and swarm_task and entry.exited_since_start is not None and not by_hand:
            # Swarm's replacement of a failed task: the service restarted, in a new container.
            entry.restarts += 1
            entry.last_restart_delay = at - entry.exited_since_start
        if action == "start":
            entry.exited_since_start = None
            entry.starts += 1
            entry.last_start = at
            risen = (restart_count or 0) - container.restart_count
            if restart_count is not None and risen > 0:
                entry.restarts += risen
                if container.exited_at is not None:
                    entry.last_restart_delay = at - container.exited_at
            if restart_count is not None:
                container.restart_count = restart_count
            container.signalled_at = None
        elif action == "kill" and container.signalled_at is None:
            container.signalled_at = at
        elif action == "die":
            code = str(attributes.get("exitCode", "unknown"))
            entry.exits[code] = entry.exits.get(code, 0) + 1
            entry.last_exit = container.exited_at = at
            if swarm_task:
                entry.exited_since_start = at
            if container.signalled_at is not None:
                entry.last_stop_duration = at - container.signalled_at
        elif action == "oom":
            entry.oom_kills += 1
        elif action.startswith("health_status:"):
            status = action.partition(":")[2].strip()
            entry.health = status
            entry.health_changes[status] = entry.health_changes.get(status, 0) + 1

    def collect(self) -> Iterator[Metric]:
        """The series, for a prometheus_client registry (``Collector.collect``)."""
        with self._lock:
            services = {name: _copy(s) for name, s in self._services.items()}
        families = _families()
        for name, s in sorted(services.items()):
            key = [self.project, name]
            for counter, count in (
                ("starts", s.starts),
                ("restarts", s.restarts),
                ("oom_kills", s.oom_kills),
            ):
                families[counter].add_metric(key, count)
            for code, count in sorted(s.exits.items()):
                families["exits"].add_metric([*key, code], count)
            for status in HEALTH_STATUSES:
                families["health_status"].add_metric([*key, status], float(s.health == status))
                families["health_changes"].add_metric([*key, status], s.health_changes.get(status, 0))
            for gauge, value in (
                ("last_start_timestamp_seconds", s.last_start),
                ("last_exit_timestamp_seconds", s.last_exit),
                ("last_restart_delay_seconds", s.last_restart_delay),
                ("last_stop_duration_seconds", s.last_stop_duration),
                ("stop_timeout_seconds", s.stop_timeout),
                ("restart_delay_honoured", float(s.swarm)),
            ):
                families[gauge].add_metric(key, value)
        yield from families.values()

    def describe(self) -> Iterator[Metric]:
        return iter(())


def _copy(service: _Service) -> _Service:
    return replace(service, exits=dict(service.exits), health_changes=dict(service.health_changes))


_HELP = {
    "starts": "Container starts seen in the engine's events",
    "restarts": "Restarts the engine made by the restart policy (RestartCount rising)",
    "exits": "Container exits seen in the engine's events, by exit code",
    "oom_kills": "OOM kills seen in the engine's events",
    "health_status": "1 for the container's current health status",
    "health_changes": "Transitions into each health status",
    "last_start_timestamp_seconds": "Unix time of the last start (0: none seen)",
    "last_exit_timestamp_seconds": "Unix time of the last exit (0: none seen)",
    "last_restart_delay_seconds": "Seconds from an exit to the policy restart that followed it (last one)",
    "last_stop_duration_seconds": "Seconds from the first stop signal to the exit (last signalled exit)",
    "stop_timeout_seconds": "Seconds a stop grants before SIGKILL (compose stop_grace_period)",
    "restart_delay_honoured": "1 when the service runs as Swarm tasks (restart_policy delay and window honoured)",
}


def _families() -> dict[str, CounterMetricFamily | GaugeMetricFamily]:
    families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
    for name, text in _HELP.items():
        full = f"harness_container_{name}"
        extra = ["exit_code"] if name == "exits" else ["status"] if name.startswith("health") else []
        if name in COUNTERS:
            families[name] = CounterMetricFamily(full, text, labels=[*LABELS, *extra])
        else:
            families[name] = GaugeMetricFamily(full, text, labels=[*LABELS, *extra])
    return families
