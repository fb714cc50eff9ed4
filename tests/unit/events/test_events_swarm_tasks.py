"""The tally under Swarm: a failed task is replaced by a new container (RestartCount 0), so a restart is
the start of a task's container after the service's previous container exited, its delay from that exit;
the series says the engine honours the policy's delay."""

from __future__ import annotations

import pytest
from test_events_follower import T, value

from harness.events.fake import container_attrs, event
from harness.events.tally import REVIVED_LABEL, SWARM_TASK_LABEL, EventTally


def task(action: str, cid: str, at: float, **attributes: str) -> dict[str, object]:
    return event(action, cid, "web", at, **{SWARM_TASK_LABEL: f"task-{cid}"}, **attributes)


def test_each_replacement_task_is_a_restart_with_its_delay() -> None:
    tally = EventTally("p")
    attrs = container_attrs("web")
    attrs["Config"]["Labels"][SWARM_TASK_LABEL] = "task-a"
    tally.declare("a", attrs)
    tally.observe(task("die", "a", T, exitCode="137"))
    tally.observe(task("start", "b", T + 30.5), restart_count=0)
    tally.observe(task("die", "b", T + 32.5, exitCode="137"))
    tally.observe(task("start", "c", T + 63), restart_count=0)
    assert value(tally, "harness_container_restarts_total", "web") == 2
    assert value(tally, "harness_container_last_restart_delay_seconds", "web") == pytest.approx(30.5)
    assert value(tally, "harness_container_restart_delay_honoured", "web") == 1
    assert value(tally, "harness_container_exits_total", "web", exit_code="137") == 2


def test_a_first_start_or_a_phase_redeploy_is_no_restart() -> None:
    tally = EventTally("p")
    tally.observe(task("start", "a", T), restart_count=0)
    tally.observe(task("start", "b", T + 5), restart_count=0)  # no exit before it
    assert value(tally, "harness_container_restarts_total", "web") == 0
    assert value(tally, "harness_container_restart_delay_honoured", "web") == 1


def test_compose_containers_are_unchanged_and_say_the_delay_is_not_honoured() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web"))
    tally.observe(event("die", "a", "web", T, exitCode="137"))
    tally.observe(event("start", "b", "web", T + 1), restart_count=0)  # a new container by hand: no restart
    assert value(tally, "harness_container_restarts_total", "web") == 0
    assert value(tally, "harness_container_restart_delay_honoured", "web") == 0


def test_a_task_the_harness_forced_is_a_start_and_swarms_next_ones_restarts_again() -> None:
    tally = EventTally("p")
    tally.observe(task("start", "a", T), restart_count=0)
    tally.observe(task("die", "a", T + 2, exitCode="137"))
    tally.observe(task("start", "b", T + 40, **{REVIVED_LABEL: "1800000040.000"}), restart_count=0)
    assert value(tally, "harness_container_restarts_total", "web") == 0
    assert value(tally, "harness_container_starts_total", "web") == 2
    tally.observe(task("die", "b", T + 42, exitCode="137"))
    tally.observe(task("start", "c", T + 72, **{REVIVED_LABEL: "1800000040.000"}), restart_count=0)
    assert value(tally, "harness_container_restarts_total", "web") == 1  # Swarm's own, same label value
    assert value(tally, "harness_container_last_restart_delay_seconds", "web") == pytest.approx(30)
