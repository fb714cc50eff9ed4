"""Network partitions (kind ``partition``): a compose service's container is disconnected from one named
network (``network``), or from every network but one (``keep_network``), and connected again at revert
with the aliases it had there (the service's name among them, so the stack's DNS finds it again).

Proof is read back from the engine: the container's ``NetworkSettings.Networks`` no longer lists the
networks (inject), lists them all again (revert). The networks and their aliases are read when the fault
is built, before it is journalled, so ``harness clean`` reconnects what a crashed run left cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import docker.errors

from harness.catalogue.model import PARTITION
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
) -> PartitionFault:
    """The partition of ``target`` from ``network``, or from all its networks but ``keep_network``."""
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


def restore_partition(
    record: FaultRecord, container: ContainerHandle, networks: NetworkSource, settle_timeout: float
) -> PartitionFault:
    """A journalled partition, able to reconnect what it cut."""
    cut = tuple(Endpoint.parse(text) for text in record.networks)
    return PartitionFault(record.target, container, networks, cut, settle_timeout)
