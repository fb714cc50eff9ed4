"""Container faults on a fake container: each kind proven and reverted, and refused when it proves nothing."""

from __future__ import annotations

import pytest

from harness.faults import ContainerFault, FaultError
from harness.faults.fake import FakeContainer


def fault(action: str, container: FakeContainer) -> ContainerFault:
    return ContainerFault(action, container.name, container, settle_timeout=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "in_force"),
    [
        ("kill", lambda s: not s["Running"]),
        ("stop", lambda s: not s["Running"]),
        ("pause", lambda s: s["Paused"]),
    ],
)
def test_inject_takes_effect_and_revert_restores(action: str, in_force) -> None:
    container = FakeContainer("redis")
    f = fault(action, container)
    f.inject()
    assert in_force(container.attrs["State"])
    f.revert()
    assert container.running
    assert container.calls[-1] == "reload"
    assert ("unpause" if action == "pause" else "start") in container.calls


def test_restart_is_proven_by_a_new_start_time() -> None:
    container = FakeContainer("redis")
    started = container.attrs["State"]["StartedAt"]
    fault("restart", container).inject()
    assert container.running and container.attrs["State"]["StartedAt"] != started


def test_restart_without_a_new_start_time_is_not_proven() -> None:
    container = FakeContainer("redis", inert=frozenset({"restart"}))
    with pytest.raises(FaultError, match=r"restart service redis .* to take effect"):
        fault("restart", container).inject()


@pytest.mark.parametrize("action", ["kill", "stop", "pause"])
def test_a_fault_that_does_not_take_effect_raises(action: str) -> None:
    container = FakeContainer("pg", inert=frozenset({action}))
    with pytest.raises(FaultError, match="timed out"):
        fault(action, container).inject()


def test_a_container_already_down_is_refused() -> None:
    container = FakeContainer("pg")
    container.stop(timeout=1)
    with pytest.raises(FaultError, match="exited, not running"):
        fault("kill", container).inject()
    assert "kill" not in container.calls


@pytest.mark.parametrize("action", ["kill", "stop", "pause", "restart"])
def test_revert_twice_and_revert_without_inject_are_harmless(action: str) -> None:
    container = FakeContainer("mq")
    f = fault(action, container)
    f.revert()
    assert container.calls == ["reload"]
    f.inject()
    f.revert()
    f.revert()
    assert container.running
    assert container.calls.count("start") + container.calls.count("unpause") <= 1


def test_revert_that_cannot_bring_it_back_raises() -> None:
    container = FakeContainer("mq", inert=frozenset({"start"}))
    f = fault("stop", container)
    f.inject()
    with pytest.raises(FaultError, match="to run again"):
        f.revert()


def test_revert_of_a_removed_container_is_harmless() -> None:
    container = FakeContainer("mq")
    f = fault("pause", container)
    f.inject()
    container.gone = True
    f.revert()


def test_engine_errors_become_fault_errors() -> None:
    container = FakeContainer("mq", gone=True)
    with pytest.raises(FaultError, match=r"failed: .*No such container"):
        fault("kill", container).inject()


def test_describe_and_record_name_the_service_and_the_container() -> None:
    container = FakeContainer("redis")
    f = fault("pause", container)
    assert f.describe() == "pause service redis (container redis)"
    record = f.record()
    assert (record.kind, record.target, record.location) == ("container_pause", "redis", "fake-redis")


@pytest.mark.parametrize("action", ["kill", "stop", "pause"])
def test_in_force_says_when_something_else_undid_the_fault(action: str) -> None:
    container = FakeContainer("redis")
    f = fault(action, container)
    f.inject()
    assert f.in_force()
    if action == "pause":
        container.unpause()
    else:
        container.start()
    assert not f.in_force()


def test_a_restart_is_in_force_once_back_up() -> None:
    container = FakeContainer("redis")
    f = fault("restart", container)
    f.inject()
    assert f.in_force()
    container.stop(timeout=0)
    assert not f.in_force()


def test_stop_and_restart_grant_the_containers_own_grace_unless_the_fault_says() -> None:
    container = FakeContainer("pg")  # its StopTimeout (compose stop_grace_period) is 3 s
    for f in (fault("restart", container), fault("stop", container)):
        f.inject()
        f.revert()
    ContainerFault("stop", "pg", container, stop_timeout=1.4, settle_timeout=0.5).inject()
    assert container.grace_given == [3, 3, 1]
