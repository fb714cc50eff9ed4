"""From a catalogue FaultSpec to a Fault, and from a journal record back to a Fault that can revert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

from harness.catalogue.model import PARTITION, PRESSURE_KINDS, FaultSpec
from harness.faults.base import Fault, FaultError, FaultRecord, FaultRefused
from harness.faults.burst import (
    BURST_KINDS,
    BurstFault,
    BurstKind,
    DockerHelpers,
    Helpers,
    LeftoverBurst,
    helper_name,
    plan_for,
)
from harness.faults.container import CONTAINER_ACTIONS, ContainerAction, ContainerFault, ContainerHandle
from harness.faults.lifecycle import IDLE, LIFECYCLE_KINDS, build_lifecycle, restore_lifecycle
from harness.faults.partition import NetworkSource, build_partition, restore_partition
from harness.faults.proxy import PROXY_KINDS, ProxyFault, ProxyKind
from harness.faults.stress import Engine, build_pressure, restore_pressure
from harness.faults.tasks import ServiceContainer, TaskSource, task_settle


class NamedProject(Protocol):
    @property
    def name(self) -> str: ...


class Client(Engine, Protocol):
    """docker's client as the faults use it: what the pressure faults use, and its networks (partitions)."""

    @property
    def networks(self) -> NetworkSource: ...


class ContainerSource(Protocol):
    """Where container faults find their containers: harness.stack.Stack, or anything listing the same;
    the engine they run on, docker's client (pressure faults start their helpers there, partitions cut its
    networks); and the compose project they belong to (the sweep finds its helpers by it)."""

    @property
    def client(self) -> Client: ...

    @property
    def project(self) -> NamedProject: ...

    def container(self, service: str) -> ContainerHandle: ...

    def containers(self, service: str | None = None, all: bool = True) -> Sequence[ContainerHandle]: ...


def build_fault(
    spec: FaultSpec,
    stack: ContainerSource,
    proxy_url: str,
    helpers: Helpers | None = None,
    run_id: str = "",
) -> Fault:
    """``helpers``: where burst helpers run (default: the local Docker engine); ``run_id`` labels the
    helpers of pressure faults."""
    if spec.kind in PRESSURE_KINDS:
        return build_pressure(spec, stack.container(spec.target), stack.client, run_id)
    if spec.kind in BURST_KINDS:
        return _burst(spec, stack, helpers or DockerHelpers())
    if spec.kind in LIFECYCLE_KINDS:
        if isinstance(stack, TaskSource):  # followed through the task replacements it causes
            settle = task_settle(stack, spec.target)
            return build_lifecycle(spec, ServiceContainer(stack, spec.target, settle), settle)
        return build_lifecycle(spec, stack.container(spec.target))
    if spec.kind == PARTITION:
        if isinstance(stack, TaskSource) and spec.mode == "disconnect":
            # Measured on Redis (2026-11-30): after the reconnect its callers kept failing for minutes,
            # breakers still open two scenarios later. A container connected by hand is not the
            # attachment Swarm gave the task (its address behind the service's virtual IP, presumably).
            raise FaultRefused(
                f"partition of {spec.target} by disconnect under Swarm: the service stays unreachable after "
                "the reconnect; use mode: drop"
            )
        return build_partition(
            spec.target,
            stack.container(spec.target),
            stack.client.networks,
            stack.project.name,
            network=spec.network,
            keep_network=spec.keep_network,
            mode=spec.mode,
        )
    family, _, name = spec.kind.partition("_")
    if family == "container" and name in CONTAINER_ACTIONS:
        return ContainerFault(
            cast(ContainerAction, name),
            spec.target,
            stack.container(spec.target),
            stop_timeout=spec.attribute("timeout"),
            **_task_revert(stack, spec.target),
        )
    if family == "proxy" and name in PROXY_KINDS:
        toxicity = spec.attribute("toxicity", 1.0)
        attributes = tuple((k, round(v)) for k, v in spec.attributes if k != "toxicity")
        return ProxyFault(
            cast(ProxyKind, name),
            spec.target,
            proxy_url,
            attributes=attributes,
            stream=spec.stream,
            toxicity=1.0 if toxicity is None else toxicity,
        )
    raise FaultError(f"unknown fault kind {spec.kind!r}")


def _burst(spec: FaultSpec, stack: ContainerSource, helpers: Helpers) -> BurstFault:
    def number(key: str) -> int | None:
        value = spec.attribute(key)
        return None if value is None else round(value)

    plan = plan_for(
        cast(BurstKind, spec.kind),
        concurrency=number("concurrency") or 1,
        requests=number("requests") or 1,
        models=spec.models,
        num_predict=number("num_predict"),
        path=spec.path,
        port=number("port"),
        duration=spec.attribute("duration", 60.0) or 60.0,
        distinct=number("distinct"),
        proof_port=number("proof_port"),
        proof_counter=spec.proof_counter,
    )
    target = stack.container(spec.target)
    return BurstFault(
        cast(BurstKind, spec.kind), spec.target, target, plan, helpers, helper_name(spec.target)
    )


def restore_fault(
    record: FaultRecord,
    stack: ContainerSource | None,
    settle_timeout: float = 30.0,
    helpers: Helpers | None = None,
) -> Fault | None:
    """The fault a journal record describes, able to revert itself; None when its container is gone."""
    if record.kind in BURST_KINDS:
        return LeftoverBurst(record.kind, record.target, record.location, helpers or DockerHelpers())
    if record.kind in PRESSURE_KINDS:
        if stack is None:
            raise FaultError(f"{record.kind} on {record.target}: reverting it needs the stack (--stack)")
        return restore_pressure(record.kind, record.target, record.location, stack.client)
    family, _, name = record.kind.partition("_")
    if isinstance(stack, TaskSource) and (
        (family == "container" and name in CONTAINER_ACTIONS) or record.kind in LIFECYCLE_KINDS
    ):
        # A task's container may be gone, replaced: the service is what a revert brings back.
        found = _journalled_container(record, stack) or stack.container(record.target)
        return ContainerFault(
            cast(ContainerAction, name) if family == "container" else "stop",
            record.target,
            found,
            settle_timeout=task_settle(stack, record.target, settle_timeout),
            revive=stack.revive,
        )
    if family == "container" and name in CONTAINER_ACTIONS:
        found = _journalled_container(record, stack)
        if found is None:
            return None
        return ContainerFault(
            cast(ContainerAction, name), record.target, found, settle_timeout=settle_timeout
        )
    if record.kind == IDLE:
        return None  # the paused load is journalled on its own: nothing on the stack to revert
    if record.kind in LIFECYCLE_KINDS:
        found = _journalled_container(record, stack)
        return None if found is None else restore_lifecycle(record, found, settle_timeout)
    if record.kind == PARTITION:
        found = _journalled_container(record, stack)
        if found is None or stack is None:
            return None
        return restore_partition(record, found, stack.client.networks, settle_timeout)
    if family == "proxy" and name in PROXY_KINDS:
        return ProxyFault(cast(ProxyKind, name), record.target, record.location, stream=record.stream)
    raise FaultError(f"fault journal names an unknown fault kind {record.kind!r}")


def _task_revert(stack: ContainerSource, service: str) -> dict[str, Any]:
    """A replaced-not-restarted service's revert (Swarm): the service brought back, waiting out its
    restart delay; nothing for a Compose stack."""
    if not isinstance(stack, TaskSource):
        return {}
    return {"revive": stack.revive, "settle_timeout": task_settle(stack, service)}


def _journalled_container(record: FaultRecord, stack: ContainerSource | None) -> ContainerHandle | None:
    """The container a journal record names, None when it is gone."""
    if stack is None:
        raise FaultError(f"{record.kind} on {record.target}: reverting it needs the stack (--stack)")
    found = [c for c in stack.containers(record.target) if c.id == record.location]
    return found[0] if found else None
