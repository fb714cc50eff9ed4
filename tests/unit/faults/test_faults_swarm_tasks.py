"""Faults on services whose failed container is replaced by a new task (Swarm), on a fake task stack behind
the same interface as SwarmStack: proven and held on the container they hit, reverted on the service (its
current task container, resolved again), never by `docker start` on a task's old container."""

from __future__ import annotations

import itertools
import time

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults.base import FaultRefused
from harness.faults.build import build_fault, restore_fault
from harness.faults.container import ContainerFault
from harness.faults.fake import FakeContainer, FakeEngine, FakeProject, FakeStack
from harness.faults.lifecycle import CrashLoopFault
from harness.faults.tasks import ServiceContainer, TaskSource

_ids = itertools.count(1)


class FakeTaskStack:
    """Each service a list of task containers, the current one last; ``replace`` is Swarm starting a new
    task after a failure, ``gave_up`` a policy whose attempts are spent."""

    def __init__(self, service: str, condition: str = "on-failure", delay: float = 30.0) -> None:
        self.tasks: dict[str, list[FakeContainer]] = {service: [self._new(service)]}
        self.condition, self.delay = condition, delay
        self.gave_up = False
        self.revived: list[str] = []
        self.forced = 0
        self.project = FakeProject("demo")
        self.client = FakeEngine([])

    @staticmethod
    def _new(service: str) -> FakeContainer:
        container = FakeContainer(service)
        container.id = f"{service}-task-{next(_ids)}"
        container.attrs["State"]["Pid"] = 4000 + next(_ids)
        return container

    def replace(self, service: str) -> FakeContainer:
        container = self._new(service)
        self.tasks[service].append(container)
        return container

    def container(self, service: str) -> FakeContainer:
        return self.tasks[service][-1]

    def containers(self, service: str | None = None, all: bool = True) -> list[FakeContainer]:
        return [c for name, found in self.tasks.items() if service in (None, name) for c in found]

    def revive(self, service: str, timeout: float) -> bool:
        self.revived.append(service)
        if self.container(service).running:
            return False
        if self.gave_up:
            self.forced += 1  # docker service update --force
        self.replace(service)
        return True

    def restart_condition(self, service: str) -> str:
        return self.condition

    def restart_delay(self, service: str) -> float:
        return self.delay


def test_the_fake_is_a_task_source_and_a_compose_stack_is_not() -> None:
    assert isinstance(FakeTaskStack("redis"), TaskSource)
    assert not isinstance(FakeStack(FakeContainer("redis")), TaskSource)


def test_a_kill_is_held_on_the_killed_container_while_swarm_replaces_it_and_reverted_on_the_service() -> None:
    stack = FakeTaskStack("redis")
    fault = build_fault(FaultSpec("container_kill", "redis"), stack, "http://proxy")
    assert isinstance(fault, ContainerFault) and fault.revive is not None
    assert fault.settle_timeout == 60.0  # the policy's 30 s delay, then the usual 30 s
    killed = stack.container("redis")
    fault.inject()
    assert not killed.running
    replacement = stack.replace("redis")  # Swarm's new task, after its delay
    assert fault.in_force()  # the container the fault hit is still down: the fault held
    fault.revert()
    assert stack.revived == ["redis"]
    assert "start" not in killed.calls  # never started behind Swarm's back
    assert stack.container("redis") is replacement and replacement.running


def test_a_service_swarm_gave_up_on_is_forced_back_at_revert() -> None:
    stack = FakeTaskStack("redis")
    fault = build_fault(FaultSpec("container_stop", "redis"), stack, "http://proxy")
    fault.inject()
    stack.gave_up = True
    fault.revert()
    assert stack.forced == 1 and stack.container("redis").running


def test_a_pause_is_undone_on_the_paused_container() -> None:
    stack = FakeTaskStack("redis")
    fault = build_fault(FaultSpec("container_pause", "redis"), stack, "http://proxy")
    paused = stack.container("redis")
    fault.inject()
    assert fault.in_force()
    fault.revert()
    assert paused.running and "unpause" in paused.calls and stack.forced == 0


def test_a_compose_stack_keeps_its_revert() -> None:
    fault = build_fault(FaultSpec("container_kill", "redis"), FakeStack(FakeContainer("redis")), "http://p")
    assert isinstance(fault, ContainerFault) and fault.revive is None


def test_the_journal_restores_a_task_fault_whose_container_is_gone() -> None:
    stack = FakeTaskStack("redis")
    fault = build_fault(FaultSpec("container_kill", "redis"), stack, "http://proxy")
    fault.inject()
    record = fault.record()
    stack.tasks["redis"] = [stack._new("redis")]  # the killed one removed, a new task running
    stack.container("redis").kill()  # and that one down too: the sweep must bring the service back
    restored = restore_fault(record, stack)
    assert restored is not None
    restored.revert()
    assert stack.container("redis").running and stack.revived == ["redis"]


def test_the_service_handle_follows_replacements_and_reads_as_one_container() -> None:
    stack = FakeTaskStack("web", condition="any")
    handle = ServiceContainer(stack, "web")
    first = handle.id
    handle.reload()
    assert handle.attrs["RestartCount"] == 0
    assert handle.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    stack.container("web").kill()
    stack.replace("web")
    handle.reload()
    assert handle.id != first and handle.attrs["RestartCount"] == 1
    stack.container("web").kill()
    handle.start()  # the service revived, not `docker start`
    handle.reload()
    assert stack.revived == ["web"] and handle.attrs["State"]["Running"]


def test_a_crash_loop_kills_each_new_task_and_is_proven_by_the_replacement() -> None:
    stack = FakeTaskStack("web", delay=0.0)
    killed: list[str] = []

    def kill(container_id: str, pid: int) -> None:
        victim = next(c for c in stack.containers("web") if c.id == container_id)
        assert victim.attrs["State"]["Pid"] == pid
        victim.kill()
        killed.append(container_id)
        stack.replace("web")  # Swarm's replacement task

    fault = CrashLoopFault("web", ServiceContainer(stack, "web"), interval=0.05, settle_timeout=5, kill=kill)
    fault.inject()
    deadline = time.monotonic() + 5
    while len(killed) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fault.in_force()
    fault.revert()
    assert len(set(killed)) >= 3  # a new container each time
    assert stack.container("web").running


def test_a_crash_loop_on_a_service_without_restart_is_refused() -> None:
    from harness.faults.base import FaultRefused

    stack = FakeTaskStack("web", condition="none")
    fault = CrashLoopFault("web", ServiceContainer(stack, "web"), kill=lambda cid, pid: None)
    with pytest.raises(FaultRefused, match="no restart policy"):
        fault.inject()


def test_a_graceful_stop_waits_for_the_service_as_long_as_its_restart_delay_allows() -> None:
    # measured under Swarm: a forced task not running 30 s after the stop, the policy's delay being 30 s
    fault = build_fault(
        FaultSpec("sigterm", "agent-summarizer"), FakeTaskStack("agent-summarizer"), "http://proxy"
    )
    assert fault.settle_timeout == 60.0
    assert isinstance(fault.container, ServiceContainer) and fault.container.settle_timeout == 60.0


def test_a_partition_by_disconnect_is_refused_under_swarm() -> None:
    stack = FakeTaskStack("redis")
    with pytest.raises(FaultRefused, match="by disconnect under Swarm: the service stays unreachable"):
        build_fault(FaultSpec("partition", "redis", network="backend"), stack, "http://proxy")
