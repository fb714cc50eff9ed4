"""The merged compose model (``compose config``) rewritten as a stack file ``docker stack deploy`` accepts,
for the services of the phases deployed so far.

What Swarm does differently, and what is done about it (checked on dockerd 20.10 with docker CLI 20.10):

- ``build``, ``container_name``, ``depends_on`` and ``restart`` are ignored by ``stack deploy``: dropped
  here. Images are built (or required) before the deploy, as for Compose; the order is the harness's phases;
  ``restart:`` becomes ``deploy.restart_policy`` only when the service gives none (Swarm honours the
  policy's ``delay`` and ``window``, which plain Docker ignores).
- ``cpuset`` is refused outright ("Compose file contains unsupported options"): set apart, and applied to
  each task's container with ``docker update --cpuset-cpus`` (harness/swarm/stack.py).
- CPU reservations are dropped: Swarm schedules by them (more than the host's cores leaves tasks pending)
  while Compose ``--compatibility`` gives them no meaning on Docker.
- ``group_add`` is refused by the stack schema: a single extra group becomes the user's primary group.
- ``ports`` would be published through the ingress mesh on every interface of the host (Swarm has no
  ``host_ip``). The project's rule is loopback only, so nothing is published by Swarm: the ports are set
  apart as ``Published`` and served on 127.0.0.1 by a bridge container (harness/swarm/bridge.py).
- Every container, network, volume and secret gets the Compose project and service labels, so everything
  that finds a stack's containers by them (faults, the sweep, the engine-event series, logs, the stack's
  own exporter) finds the Swarm's tasks the same way.
- Networks become overlays, ``attachable`` so the bridges and the burst helpers (plain containers) can join
  them; ``internal`` is kept. Services are reached by DNS round robin (``endpoint_mode: dnsrr``): with
  nothing published there is no need for the virtual IP, and a name resolves to the running task itself.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.containers import PROJECT_LABEL, SERVICE_LABEL
from harness.errors import InputError
from harness.lint.units import parse_bytes

STACK_VERSION = "3.8"
DROPPED = ("build", "container_name", "depends_on", "restart", "cpuset", "links", "expose")
"""Keys ``stack deploy`` ignores or refuses; ``expose`` says nothing on an overlay (every port is open)."""
LOOPBACK = "127.0.0.1"
_PORT = re.compile(r"^(?:(?P<ip>[0-9.]+):)?(?:(?P<published>\d+):)?(?P<target>\d+)(?:/(?P<proto>tcp|udp))?$")


@dataclass(frozen=True, slots=True)
class Published:
    """A port the compose file publishes, to be served on the host's loopback by a bridge."""

    service: str
    host_port: int
    target: int
    host_ip: str = LOOPBACK


@dataclass(frozen=True, slots=True)
class StackFile:
    document: dict[str, Any]
    published: tuple[Published, ...]
    cpusets: Mapping[str, str]
    """Service -> the cpuset its compose definition asks for."""
    networks: Mapping[str, tuple[str, ...]]
    """Service -> its networks, as named in the compose file (the stack prefixes them)."""
    reservations: Mapping[str, int] = field(default_factory=dict)
    """Service -> its memory reservation in bytes (Swarm schedules by it but sets no soft limit)."""

    @property
    def updates(self) -> dict[str, dict[str, Any]]:
        """Service -> the ``Container.update`` options that give a task what Swarm cannot."""
        found: dict[str, dict[str, Any]] = {}
        for service, cpuset in self.cpusets.items():
            found.setdefault(service, {})["cpuset_cpus"] = cpuset
        for service, size in self.reservations.items():
            found.setdefault(service, {})["mem_reservation"] = size
        return found


def restart_policy(restart: str) -> dict[str, Any]:
    """Compose's ``restart:`` as Swarm's ``restart_policy`` (Swarm's own defaults otherwise)."""
    name, _, count = restart.partition(":")
    if name in ("always", "unless-stopped"):
        return {"condition": "any"}
    if name == "on-failure":
        return {"condition": "on-failure", **({"max_attempts": int(count)} if count else {})}
    return {"condition": "none"}


def parse_port(service: str, port: Any) -> Published:
    """A compose port, short (``127.0.0.1:8080:8080/tcp``) or long syntax."""
    if isinstance(port, Mapping):
        target, published = port.get("target"), port.get("published", port.get("target"))
        ip = port.get("host_ip") or LOOPBACK
        proto = port.get("protocol", "tcp")
    else:
        match = _PORT.match(str(port))
        if match is None:
            raise InputError("compose", None, f"service {service}: port {port!r} is no port the driver reads")
        target = match["target"]
        published = match["published"] or target
        ip, proto = match["ip"] or LOOPBACK, match["proto"] or "tcp"
    if proto != "tcp":
        raise InputError("compose", None, f"service {service}: only tcp ports can be bridged, not {port!r}")
    if ip not in (LOOPBACK, "0.0.0.0"):
        raise InputError("compose", None, f"service {service}: port {port!r}: loopback only (127.0.0.1)")
    # 0.0.0.0 (or no address) is served on loopback too: nothing the harness deploys is reachable from
    # other hosts.
    return Published(service, int(str(published)), int(str(target)))


def _labels(value: Any) -> dict[str, str]:
    if isinstance(value, list):  # ["key=value", ...]
        return dict(str(item).partition("=")[::2] for item in value)
    return {str(k): str(v) for k, v in (value or {}).items()}


def _networks(spec: Mapping[str, Any]) -> tuple[str, ...]:
    networks = spec.get("networks")
    if networks is None:
        return ("default",)
    return tuple(networks) if isinstance(networks, (list, dict)) else ()


def stack_file(model: Mapping[str, Any], project: str, services: Iterable[str]) -> StackFile:
    """The stack file for ``services`` of ``model`` (the merged compose model), for stack ``project``."""
    chosen = set(services)
    all_services: Mapping[str, Any] = model.get("services") or {}
    out_services: dict[str, Any] = {}
    published: list[Published] = []
    cpusets: dict[str, str] = {}
    reservations: dict[str, int] = {}
    networks: dict[str, tuple[str, ...]] = {}
    for name, original in all_services.items():
        spec = copy.deepcopy(dict(original))
        networks[name] = _networks(spec)
        if spec.get("cpuset") is not None:
            cpusets[name] = str(spec["cpuset"])
        reserved = (((spec.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get(
            "memory"
        )
        if reserved is not None:
            reservations[name] = parse_bytes(str(reserved))
        published += [parse_port(name, p) for p in spec.pop("ports", None) or ()]
        if name not in chosen:
            continue
        restart = spec.get("restart")
        _group_add(name, spec)
        for key in DROPPED:
            spec.pop(key, None)
        spec["labels"] = {**_labels(spec.get("labels")), PROJECT_LABEL: project, SERVICE_LABEL: name}
        deploy = dict(spec.get("deploy") or {})
        if "restart_policy" not in deploy and restart:
            deploy["restart_policy"] = restart_policy(str(restart))
        deploy["endpoint_mode"] = "dnsrr"
        resources = deploy.get("resources") or {}
        # Compose's config writes 0.5; the stack schema wants "0.5".
        if "cpus" in (resources.get("limits") or {}):
            resources["limits"]["cpus"] = str(resources["limits"]["cpus"])
        # Swarm schedules by CPU reservations (the reference stack's add up to 3.5 cores: on 2, half its
        # tasks stay pending, "no suitable node"); Compose --compatibility maps none to Docker, so here too
        # they are dropped. Memory reservations are kept (a soft limit, and Swarm's scheduling by them).
        (resources.get("reservations") or {}).pop("cpus", None)
        spec["deploy"] = deploy
        out_services[name] = spec
    document: dict[str, Any] = {"version": STACK_VERSION, "services": out_services}
    used = {n for s in out_services for n in networks[s]}
    declared: dict[str, Any] = {"default": {}, **(model.get("networks") or {})}
    document["networks"] = {
        name: _network(declared[name] or {}, project) for name in declared if name in used
    }
    for section in ("volumes", "secrets"):
        entries = model.get(section) or {}
        if entries:
            document[section] = {
                name: {
                    **(spec or {}),
                    "labels": {**_labels((spec or {}).get("labels")), PROJECT_LABEL: project},
                }
                for name, spec in entries.items()
            }
    return StackFile(
        document, tuple(p for p in published if p.service in chosen), cpusets, networks, reservations
    )


def _group_add(service: str, spec: dict[str, Any]) -> None:
    """``group_add`` is refused by the stack schema of CLI 20.10: one extra group becomes the user's primary
    group (a non-root exporter reading the Docker socket keeps its right to), more cannot be had."""
    groups = spec.pop("group_add", None) or []
    if not groups:
        return
    if len(groups) > 1:
        raise InputError("compose", None, f"service {service}: Swarm has no group_add; one group can be kept")
    user = str(spec.get("user") or "0")
    spec["user"] = f"{user.partition(':')[0]}:{groups[0]}"


def _network(spec: Mapping[str, Any], project: str) -> dict[str, Any]:
    network = {k: v for k, v in spec.items() if k not in ("driver", "attachable", "labels")}
    network.update(driver="overlay", attachable=True)
    network["labels"] = {**_labels(spec.get("labels")), PROJECT_LABEL: project}
    return network
