"""SwarmStack's view of a service's tasks: a replacement waiting out the restart delay (desired ``ready``)
is one Swarm means to run, so a revert waits for it instead of forcing a task by hand; a task stopped a moment
ago is still wanted until Swarm notices the exit, so the revive forces a task only once none is. A take-down
whose `stack rm` finds a network still in use by a task shutting down removes the stack again once the
tasks are gone."""

from __future__ import annotations

from typing import Any

import pytest

from harness.compose import Project
from harness.errors import StackError
from harness.stack import Leftovers
from harness.swarm.stack import SwarmStack


class FakeService:
    def __init__(self, tasks: list[dict[str, Any]]) -> None:
        self._tasks = tasks

    def tasks(self, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._tasks


class FakeClient:
    def __init__(self, tasks: list[dict[str, Any]]) -> None:
        self.services = self
        self.service = FakeService(tasks)

    def get(self, name: str) -> FakeService:
        assert name == "p_web"
        return self.service


def stack(tasks: list[dict[str, Any]]) -> SwarmStack:
    return SwarmStack(None, Project("p", (), ()), {}, client=FakeClient(tasks), cli=lambda *a, **k: "")  # type: ignore[arg-type]


def task(desired: str, created: str, container: str | None = None) -> dict[str, Any]:
    status = {"ContainerStatus": {"ContainerID": container}} if container else {}
    return {"DesiredState": desired, "CreatedAt": created, "Status": status}


def test_a_restart_waiting_out_its_delay_is_wanted_and_has_no_container_yet() -> None:
    found = stack([task("shutdown", "2026-01-01T00:00:01Z", "old"), task("ready", "2026-01-01T00:00:03Z")])
    assert [t["DesiredState"] for t in found._tasks("web")] == ["ready"]
    assert found.current_id("web") is None


def test_the_newest_running_task_is_the_current_one_and_none_when_swarm_gave_up() -> None:
    running = stack(
        [task("running", "2026-01-01T00:00:01Z", "a"), task("running", "2026-01-01T00:00:05Z", "b")]
    )
    assert running.current_id("web") == "b"
    gave_up = stack([task("shutdown", "2026-01-01T00:00:01Z", "a")])
    assert gave_up._tasks("web") == [] and gave_up.current_id("web") is None


class Settling(SwarmStack):
    """A task stopped a moment ago: desired running for ``notice`` polls, then given up (exit 0 under
    on-failure); a forced task runs one poll after it is asked for."""

    def __init__(self, notice: int) -> None:
        super().__init__(None, Project("p", (), ()), {}, client=FakeClient([]), cli=self._cli)  # type: ignore[arg-type]
        self.notice, self.polls, self.forced_at = notice, 0, None

    def _cli(self, *args: str, **options: Any) -> str:
        assert args[:3] == ("service", "update", "--force") and args[-1] == "p_web"
        self.forced_at = self.polls
        return ""

    def _tasks(self, service: str) -> list[dict[str, Any]]:
        return [task("running", "2026-01-01T00:00:01Z", "old")] if self.polls <= self.notice else []

    def _runs(self, service: str) -> bool:
        self.polls += 1
        return self.forced_at is not None and self.polls > self.forced_at


def test_a_revive_forces_a_task_once_swarm_has_noticed_the_exit_not_before() -> None:
    settling = Settling(notice=3)
    assert settling.revive("web", timeout=10) is True
    assert settling.forced_at == 4  # the first poll past the `notice` ones: no task wanted any more


class FakeBridges:
    label = "harness.swarm.bridge=p"

    def remove(self) -> list[str]:
        return []

    def names(self) -> list[str]:
        return []


class FakeMode:
    def state(self) -> str:
        return "active"

    def release(self) -> None:
        return None


class Removing(SwarmStack):
    """`stack rm` refused once because a network is still in use by a task shutting down (``refusal``),
    whose container goes after ``lingering`` polls."""

    def __init__(self, refusal: str, lingering: int = 2) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]
            Project("p", (), ()),
            {},
            client=FakeClient([]),  # type: ignore[arg-type]
            cli=self._cli,
            mode=FakeMode(),  # type: ignore[arg-type]
            bridges=FakeBridges(),  # type: ignore[arg-type]
        )
        self.refusal, self.lingering, self.removals, self.removed = refusal, lingering, 0, False

    def _cli(self, *args: str, **options: Any) -> str:
        assert args[:3] == ("stack", "rm", "p")
        self.removals += 1
        if self.removals == 1:
            raise StackError(f"`docker stack rm p` failed: {self.refusal}")
        self.removed = True
        return ""

    def leftovers(self, include_volumes: bool = True) -> Leftovers:
        self.lingering -= 1
        containers = ("p_web.1.x",) if self.lingering >= 0 else ()
        return Leftovers(containers, () if self.removed else ("p_default",), ())


def test_a_network_still_in_use_by_a_task_is_removed_once_the_tasks_are_gone() -> None:
    removing = Removing("network n1 is in use by task t1failed to remove some resources from stack: p")
    assert removing.down(keep_volumes=True) == Leftovers((), (), ())
    assert removing.removals == 2 and removing.lingering < 0


def test_any_other_refusal_of_stack_rm_is_raised() -> None:
    removing = Removing("Error response from daemon: This node is not a swarm manager.")
    with pytest.raises(StackError, match="not a swarm manager"):
        removing.down(keep_volumes=True)
    assert removing.removals == 1
