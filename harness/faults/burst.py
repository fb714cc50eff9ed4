"""Bursts: a bounded burst of concurrent HTTP requests at one service, from a short-lived helper container
on one of the stack's own networks (the target is seldom published on the host).

``ollama_load`` sends generations straight at the model server (``POST /api/generate``, ``stream: false``,
``options.num_predict``, the models in turn), so that more are asked for at once than it runs in parallel
and queues, and more models than it keeps loaded. ``http_burst`` sends tasks at an agent's API (``{"input",
"model"}``, the models in turn: an agent loads a model into its pool only when a request names one),
past its concurrency limit; with ``distinct`` it sends only that many different tasks, again and again, so
that a cache of the target's answers can hit. Both run beside the steady load, which goes on measuring what
users see.

The helper (image ``harness/burst:local``, built from ``harness/images/burst``) is bounded: at most
``requests`` requests, ``concurrency`` at once, none started after ``duration`` seconds, each with a
``timeout``; it attaches only to a network the target's compose project created, and refuses any address
that is not private. Its name is chosen before it starts, so the journal entry written before ``inject()``
lets ``harness clean`` remove it after a SIGKILL. It is labelled too (``harness.helper=burst``, the fault,
the target service and its compose project): a crash between its start and the journal entry, or a journal
lost, leaves a helper only its labels name, and the sweep removes every burst helper of its project.

Proof: the helper reads the target's ``/metrics`` before (the lowest sum over a second) and during the
burst; the fault took effect when the sum of the ``proof`` gauges (in flight and queued) rose by a quarter
of the burst's concurrency (more could be out of reach: a model server holds at most NUM_PARALLEL + its
queue, and the steady load may hold some of it). A target without those gauges (a gateway: it refuses at once,
so nothing stays in flight, and its metrics are on a port of their own) names a ``counter`` of the requests it
received instead, and the ``proof_port`` it is read on: the burst took effect when that counter rose by at
least every request the helper got an answer to (at least a quarter of the concurrency); other clients only
add to it, so it never falls short of a burst the target counted, and one it did not count is caught unless
the other traffic alone covers the answers. A burst is an
event, not a state: it stays in force while its helper runs or once it finished its count; a helper that
was removed or failed is not in force. Revert removes the helper (gone already is fine).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import docker
import docker.errors

from harness.containers import PROJECT_LABEL
from harness.faults.base import FaultError, FaultRecord, FaultRefused
from harness.faults.container import DOCKER_ERRORS, ContainerHandle, container_state
from harness.images import ImageBuild, build_images
from harness.polling import wait_until

if TYPE_CHECKING:  # stress.py imports this module's labels
    from harness.faults.stress import Engine

BurstKind = Literal["ollama_load", "http_burst"]
BURST_KINDS: tuple[BurstKind, ...] = ("ollama_load", "http_burst")
IMAGE_DIR = Path(__file__).resolve().parents[1] / "images" / "burst"
IMAGE = ImageBuild("harness/burst:local", IMAGE_DIR, IMAGE_DIR / "Dockerfile")
HELPER_LABEL = "harness.helper"
"""The label every harness helper carries; its value names the kind (this one's ``HELPER``)."""
HELPER = "burst"
HELPER_PROJECT_LABEL = "harness.project"
"""A helper's label naming the compose project of its target (bursts and stress helpers)."""
POLL_INTERVAL = 0.2
PROOF: Mapping[BurstKind, tuple[str, ...]] = {
    "ollama_load": ("ollama_requests_inflight", "ollama_queue_depth"),
    "http_burst": ("agent_inflight_requests", "agent_concurrency_waiting"),
}
"""The gauges whose sum rises when the burst takes effect, by default (the reference stack's names)."""
PATHS: Mapping[BurstKind, str] = {"ollama_load": "/api/generate", "http_burst": "/api/task"}


@dataclass(frozen=True, slots=True)
class BurstPlan:
    """What the helper sends (its JSON argument, less the address it learns at inject)."""

    path: str
    bodies: tuple[Mapping[str, Any], ...]
    concurrency: int
    requests: int
    timeout: float = 30.0
    duration: float = 60.0
    backoff: float = 0.25
    """Seconds a worker waits after a refusal (5xx) or an error, as a client told "busy" does."""
    proof: tuple[str, ...] = ()
    counter: str | None = None
    """A counter of the requests the target received: the proof instead of the ``proof`` gauges."""
    port: int | None = None
    """The target's port; None: the one port its container exposes."""
    proof_port: int | None = None
    """Where the target's ``/metrics`` is read; None: ``port``."""
    distinct: int | None = None
    """Request n is sent as request n mod ``distinct`` is: that many bodies, repeated (None: each new)."""

    def document(self, host: str, port: int) -> str:
        return json.dumps(
            {
                "host": host,
                "port": port,
                "path": self.path,
                "bodies": [dict(b) for b in self.bodies],
                "concurrency": self.concurrency,
                "requests": self.requests,
                "timeout": self.timeout,
                "duration": self.duration,
                "backoff": self.backoff,
                "proof": list(self.proof),
                "counter": self.counter,
                "proof_port": self.proof_port or port,
                "rise": max(1, self.concurrency // 4),
                "distinct": self.distinct,
            }
        )

    @property
    def shows_in(self) -> str:
        """What the proof reads, for messages."""
        if self.counter:
            return f"{self.counter} (rising by every request answered)"
        return " + ".join(self.proof)


def plan_for(
    kind: BurstKind,
    concurrency: int,
    requests: int,
    models: tuple[str, ...] = (),
    num_predict: int | None = None,
    path: str | None = None,
    port: int | None = None,
    duration: float = 60.0,
    distinct: int | None = None,
    proof_port: int | None = None,
    proof_counter: str | None = None,
) -> BurstPlan:
    """The plan of a catalogue burst; ``{n}`` in a body is the request's number (a fresh input each), or
    that number mod ``distinct`` (only ``distinct`` inputs, each sent again and again: a cache can hit).
    Proven by the kind's gauges, or by ``proof_counter`` when given; read on ``proof_port`` when given."""
    if kind == "ollama_load":
        if not models:
            raise FaultError("ollama_load needs at least one model")
        options = {} if num_predict is None else {"options": {"num_predict": num_predict}}
        bodies: tuple[Mapping[str, Any], ...] = tuple(
            {"model": m, "prompt": "burst {n}", "stream": False, **options} for m in models
        )
    else:
        bodies = tuple({"input": "burst {n}", "model": m} for m in models) or ({"input": "burst {n}"},)
    return BurstPlan(
        path or PATHS[kind],
        bodies,
        concurrency,
        requests,
        duration=duration,
        proof=() if proof_counter else PROOF[kind],
        counter=proof_counter,
        port=port,
        proof_port=proof_port,
        distinct=distinct,
    )


@dataclass(frozen=True, slots=True)
class HelperState:
    running: bool
    exit_code: int
    events: tuple[Mapping[str, Any], ...]
    """The helper's JSON lines so far."""

    def event(self, name: str) -> Mapping[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name), None)


class Helpers(Protocol):
    """Where helper containers run: Docker (DockerHelpers), or a fake in the tests."""

    def network_project(self, network: str) -> str | None: ...

    def start(self, name: str, network: str, argument: str, labels: Mapping[str, str]) -> None: ...

    def state(self, name: str) -> HelperState | None:
        """None when no container of that name exists."""

    def remove(self, name: str) -> None:
        """Remove it, running or not; harmless when it is gone."""


class DockerHelpers:
    """Helper containers on the local engine: small (64 MiB, half a core), unprivileged, read-only."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.from_env()
        return self._client

    def network_project(self, network: str) -> str | None:
        try:
            labels = self.client.networks.get(network).attrs.get("Labels") or {}
        except DOCKER_ERRORS as exc:
            raise FaultError(f"network {network} cannot be read: {exc}") from exc
        return labels.get(PROJECT_LABEL)

    def start(self, name: str, network: str, argument: str, labels: Mapping[str, str]) -> None:
        build_images([IMAGE])
        try:
            self.client.containers.run(
                IMAGE.image,
                [argument],
                name=name,
                network=network,
                labels=dict(labels),
                detach=True,
                mem_limit="64m",
                nano_cpus=500_000_000,
                user="1000:1000",
                read_only=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
            )
        except DOCKER_ERRORS as exc:
            raise FaultError(f"burst helper {name} cannot start: {exc}") from exc

    def state(self, name: str) -> HelperState | None:
        try:
            container = self.client.containers.get(name)
            state = container.attrs["State"]
            lines = container.logs(stdout=True, stderr=False).decode(errors="replace").splitlines()
        except docker.errors.NotFound:
            return None
        except DOCKER_ERRORS as exc:
            raise FaultError(f"burst helper {name} cannot be read: {exc}") from exc
        return HelperState(bool(state.get("Running")), int(state.get("ExitCode") or 0), _events(lines))

    def remove(self, name: str) -> None:
        try:
            self.client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            return
        except DOCKER_ERRORS as exc:
            raise FaultError(f"burst helper {name} cannot be removed: {exc}") from exc


def _events(lines: list[str]) -> tuple[Mapping[str, Any], ...]:
    events = []
    for line in lines:
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
    return tuple(events)


def helper_name(target: str) -> str:
    return f"harness-burst-{target}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class BurstFault:
    kind: BurstKind
    target: str
    """The compose service the burst hits."""
    container: ContainerHandle = field(compare=False, repr=False)
    """The target's container: its networks, address and port."""
    plan: BurstPlan
    helpers: Helpers = field(compare=False, repr=False)
    name: str = ""
    """The helper container's name (known before it starts, so the journal can name it)."""
    settle_timeout: float = 30.0
    """Seconds the burst may take to show in the target's gauges."""

    def describe(self) -> str:
        models = {str(b["model"]) for b in self.plan.bodies if "model" in b}
        shown = f", models {', '.join(sorted(models))}" if models else ""
        return (
            f"{self.kind} on {self.target}: {self.plan.requests} x POST {self.plan.path}, "
            f"{self.plan.concurrency} at once{shown} (helper {self.name})"
        )

    def record(self) -> FaultRecord:
        return FaultRecord(self.kind, self.target, self.name)

    def inject(self) -> None:
        try:
            state = container_state(self.container)
            attrs = self.container.attrs
        except DOCKER_ERRORS as exc:
            raise FaultError(f"{self.describe()}: the target cannot be read: {exc}") from exc
        if not state.get("Running") or state.get("Paused"):
            raise FaultRefused(f"cannot send {self.describe()}: the target is {state.get('Status')}")
        network, address = self._network(attrs)
        port = self.plan.port or _target_port(self.target, attrs)
        project = (attrs.get("Config", {}).get("Labels") or {}).get(PROJECT_LABEL, "")
        labels = {
            HELPER_LABEL: HELPER,
            "harness.fault": self.kind,
            "harness.target": self.target,
            HELPER_PROJECT_LABEL: project,
        }
        self.helpers.start(self.name, network, self.plan.document(address, port), labels)
        wait_until(
            self._proven,
            timeout=self.settle_timeout,
            interval=POLL_INTERVAL,
            what=f"{self.describe()} to show in {self.plan.shows_in}",
            error=FaultError,
        )

    def _network(self, attrs: Mapping[str, Any]) -> tuple[str, str]:
        """A network of the target's own compose project, and the target's address on it."""
        project = (attrs.get("Config", {}).get("Labels") or {}).get(PROJECT_LABEL)
        networks = attrs.get("NetworkSettings", {}).get("Networks") or {}
        for name in sorted(networks):
            address = networks[name].get("IPAddress")
            if address and project and self.helpers.network_project(name) == project:
                return name, address
        raise FaultRefused(
            f"cannot send {self.describe()}: the target is on no network of its compose project "
            f"({', '.join(sorted(networks)) or 'none'})"
        )

    def _proven(self) -> bool:
        state = self.helpers.state(self.name)
        if state is None:
            raise FaultError(f"{self.describe()}: the helper is gone before the burst showed")
        if state.event("rose"):
            return True
        if not state.running:
            last = state.events[-1] if state.events else {"exit_code": state.exit_code}
            raise FaultError(f"{self.describe()}: the burst ended without showing in the target: {last}")
        return False

    def in_force(self) -> bool:
        state = self.helpers.state(self.name)
        return state is not None and state.event("rose") is not None and state.exit_code == 0

    def revert(self) -> None:
        self.helpers.remove(self.name)
        if self.helpers.state(self.name) is not None:
            raise FaultError(f"reverting {self.describe()}: the helper is still there")


def _target_port(target: str, attrs: Mapping[str, Any]) -> int:
    """The one port the target exposes, else the one its ``PORT`` variable names (rule 5.3). Swarm drops
    ``expose``: a task's container exposes only what its image does."""
    config = attrs.get("Config", {})
    ports = sorted(config.get("ExposedPorts") or {})
    if len(ports) == 1:
        return int(ports[0].split("/", 1)[0])
    named = [v.split("=", 1)[1] for v in config.get("Env") or () if v.startswith("PORT=")]
    if named and named[-1].isdigit():
        return int(named[-1])
    raise FaultError(
        f"{target} exposes {len(ports)} ports ({', '.join(ports) or 'none'}) and sets no PORT: "
        "give the burst a port"
    )


@dataclass(frozen=True, slots=True)
class LeftoverBurst:
    """A burst a crashed run left, rebuilt from its journal record: it can only be reverted."""

    kind: str
    target: str
    name: str
    helpers: Helpers = field(compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.kind} on {self.target} (helper {self.name})"

    def record(self) -> FaultRecord:
        return FaultRecord(self.kind, self.target, self.name)

    def inject(self) -> None:
        raise FaultError(f"{self.describe()}: a leftover is only reverted")

    def in_force(self) -> bool:
        return self.helpers.state(self.name) is not None

    def revert(self) -> None:
        self.helpers.remove(self.name)


def sweep_burst_helpers(engine: Engine, project: str, cleaned: list[str], errors: list[str]) -> None:
    """Remove every burst helper of ``project`` (the project's lock says no run is using them), whether
    or not a journal names it: a run killed between starting one and journalling it leaves only the labels."""
    labels = [f"{HELPER_LABEL}={HELPER}", f"{HELPER_PROJECT_LABEL}={project}"]
    try:
        helpers = engine.containers.list(all=True, filters={"label": labels})
    except DOCKER_ERRORS as exc:
        errors.append(f"burst helpers cannot be listed: {exc}")
        return
    for helper in helpers:
        found = helper.attrs.get("Config", {}).get("Labels") or {}
        try:
            helper.remove(force=True)
        except docker.errors.NotFound:
            continue  # gone meanwhile
        except DOCKER_ERRORS as exc:
            errors.append(f"burst helper {helper.name} cannot be removed: {exc}")
            continue
        what = f"{found.get('harness.fault', 'burst')} on {found.get('harness.target', '?')}"
        cleaned.append(f"removed burst helper {helper.name} ({what}, by its labels)")
