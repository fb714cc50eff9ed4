"""Remove every fault the harness left in force: first what the journal lists (faults, and a load generator
a killed run left running), then whatever the state shows (paused project containers, stopped ones that
declare they always run, stress helpers in the cgroup of a project container or of one gone, burst helpers
labelled with the project, ``harness-*`` toxics, disabled proxies).

The runner calls ``sweep()`` at start-up, so a crashed earlier run cannot poison the next one; the
``clean`` command calls it after a crash. Errors are collected, not raised, so one stuck fault does not
hide the others; a journal entry whose revert failed stays in the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.faults.base import FaultError
from harness.faults.build import ContainerSource, restore_fault
from harness.faults.burst import sweep_burst_helpers
from harness.faults.container import DOCKER_ERRORS, ContainerHandle, ensure_running
from harness.faults.journal import Journal
from harness.faults.lifecycle import IDLE
from harness.faults.proxy import TOXIC_PREFIX, ProxyApi
from harness.faults.stress import sweep_helpers
from harness.load.driver import LoadError
from harness.load.process import stop_leftover
from harness.load.pushgateway import delete_group

ALWAYS_RUN = ("always", "unless-stopped")
"""Restart policies that say "this container runs": Docker restarts such a container when its process
dies, but not after ``docker kill`` or ``docker stop``, which mark it stopped by hand."""


@dataclass(frozen=True, slots=True)
class SweepReport:
    cleaned: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def sweep(
    journal: Journal, stack: ContainerSource | None, proxy_url: str | None, settle_timeout: float = 30.0
) -> SweepReport:
    """Revert what the journal lists, then what the state shows; ``settle_timeout`` bounds each wait."""
    cleaned: list[str] = []
    errors: list[str] = []
    _sweep_loads(journal, cleaned, errors)
    try:
        entries = journal.entries()
    except FaultError as exc:
        entries = []
        errors.append(str(exc))
    for entry in entries:
        try:
            fault = restore_fault(entry.record, stack, settle_timeout)
            if fault is None:
                why = (
                    "the load it paused is the journal's own entry, nothing else"
                    if entry.record.kind == IDLE
                    else "container gone, nothing to revert"
                )
                cleaned.append(f"{entry.record.kind} on {entry.record.target}: {why}")
            else:
                fault.revert()
                cleaned.append(f"reverted {fault.describe()} (journal, pid {entry.pid})")
            journal.remove(entry)
        except FaultError as exc:
            errors.append(str(exc))
    if stack is not None:
        _sweep_stack(stack, settle_timeout, cleaned, errors)
    if proxy_url is not None:
        _sweep_proxies(proxy_url, cleaned, errors)
    return SweepReport(tuple(cleaned), tuple(errors))


def _sweep_loads(journal: Journal, cleaned: list[str], errors: list[str]) -> None:
    """Stop the load a killed run left running (so the next run is not judged under double load) and
    delete its Pushgateway group (or its last values would be scraped forever)."""
    try:
        loads = journal.loads()
    except FaultError:
        return  # a journal that cannot be read is reported once, by the fault sweep
    for load in loads:
        try:
            if stop_leftover(load):
                cleaned.append(
                    f"stopped the load of run {load.run_id} (pid {load.pid}, harness pid {load.owner})"
                )
        except LoadError as exc:
            errors.append(str(exc))
            continue  # still running: its entry stays for the next sweep
        try:
            if load.pushgateway_url:
                delete_group(load.pushgateway_url, load.run_id)
                cleaned.append(f"deleted the Pushgateway group of run {load.run_id}")
        except LoadError as exc:
            errors.append(str(exc))  # the process is gone: clean's stale-group sweep can still get it
        try:
            journal.remove_load(load)
        except FaultError as exc:
            errors.append(str(exc))


def _sweep_stack(
    stack: ContainerSource, settle_timeout: float, cleaned: list[str], errors: list[str]
) -> None:
    """The helpers no journal names (a crash before the entry was written, a journal lost), then the
    project's containers."""
    try:
        containers = list(stack.containers())
    except DOCKER_ERRORS as exc:
        errors.append(f"containers cannot be listed: {exc}")
        return
    sweep_helpers(stack.client, {c.id for c in containers}, cleaned, errors)
    sweep_burst_helpers(stack.client, stack.project.name, cleaned, errors)
    _sweep_containers(containers, settle_timeout, cleaned, errors)


def _sweep_containers(
    containers: Sequence[ContainerHandle], settle_timeout: float, cleaned: list[str], errors: list[str]
) -> None:
    """Unpause paused containers: nothing but a fault pauses one. Start stopped ones only if their restart
    policy says they always run: a one-shot service exits by design, and any other stopped container is
    brought back only when the journal names it."""
    for container in containers:
        try:
            container.reload()
            state = container.attrs["State"]
            if state.get("Paused") and ensure_running(container, settle_timeout):
                cleaned.append(f"unpaused container {container.name}")
            elif (
                _always_runs(container)
                and not state.get("Running")
                and not state.get("Restarting")  # Docker is bringing it back itself
                and ensure_running(container, settle_timeout)
            ):
                cleaned.append(f"started container {container.name} (stopped, though it always runs)")
        except FaultError as exc:
            errors.append(str(exc))
        except DOCKER_ERRORS as exc:
            errors.append(f"container {container.name}: {exc}")


def _always_runs(container: ContainerHandle) -> bool:
    policy = container.attrs.get("HostConfig", {}).get("RestartPolicy") or {}
    return policy.get("Name") in ALWAYS_RUN


def _sweep_proxies(proxy_url: str, cleaned: list[str], errors: list[str]) -> None:
    try:
        api = ProxyApi(proxy_url)
        proxies = api.proxies()
    except FaultError as exc:
        errors.append(str(exc))
        return
    for proxy in proxies:
        try:
            for toxic in proxy.toxics:
                if toxic.name.startswith(TOXIC_PREFIX) and api.remove_toxic(proxy.name, toxic.name):
                    cleaned.append(f"removed toxic {toxic.name} from proxy {proxy.name}")
            if not proxy.enabled:
                api.set_enabled(proxy.name, True)
                cleaned.append(f"enabled proxy {proxy.name}")
        except FaultError as exc:
            errors.append(str(exc))
