"""Swarm mode left as found: initialised only when absent (marker first), left only when ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import StackError
from harness.swarm.mode import SwarmMode


class FakeDocker:
    def __init__(self, state: str) -> None:
        self.state = state
        self.calls: list[tuple[str, ...]] = []
        self.marker_at_init: bool | None = None
        self.marker: Path | None = None

    def __call__(self, *args: str, timeout: float = 120) -> str:
        self.calls.append(args)
        if args[0] == "info":
            return self.state + "\n"
        if args[:2] == ("swarm", "init"):
            assert self.marker is not None
            self.marker_at_init = self.marker.exists()
            self.state = "active"
        if args[:2] == ("swarm", "leave"):
            self.state = "inactive"
        return ""


def mode(tmp_path: Path, state: str) -> tuple[SwarmMode, FakeDocker]:
    docker = FakeDocker(state)
    docker.marker = tmp_path / "initialised.json"
    return SwarmMode(docker, docker.marker), docker


def test_absent_swarm_is_initialised_on_loopback_journalled_first_and_left(tmp_path: Path) -> None:
    swarm, docker = mode(tmp_path, "inactive")
    assert swarm.ensure() is True
    assert (
        "swarm",
        "init",
        "--advertise-addr",
        "127.0.0.1",
        "--listen-addr",
        "127.0.0.1:2377",
    ) in docker.calls
    assert docker.marker_at_init is True  # a crash right after init still leaves the marker
    assert swarm.release() is not None
    assert docker.state == "inactive"
    assert not (tmp_path / "initialised.json").exists()


def test_a_swarm_that_was_there_is_never_left(tmp_path: Path) -> None:
    swarm, docker = mode(tmp_path, "active")
    assert swarm.ensure() is False
    assert swarm.release() is None
    assert docker.state == "active"
    assert not any(c[:2] in (("swarm", "init"), ("swarm", "leave")) for c in docker.calls)


def test_a_crashed_runs_swarm_is_adopted_and_left(tmp_path: Path) -> None:
    (tmp_path / "initialised.json").write_text("{}")
    swarm, docker = mode(tmp_path, "active")
    assert swarm.ensure() is True
    assert swarm.release() is not None
    assert docker.state == "inactive"


def test_a_fresh_process_leaves_by_the_marker_alone(tmp_path: Path) -> None:
    """`harness down` or `clean` after a crash: not the process that initialised it."""
    (tmp_path / "initialised.json").write_text("{}")
    swarm, docker = mode(tmp_path, "active")
    assert swarm.release() is not None
    assert docker.state == "inactive"


def test_a_stale_marker_without_swarm_is_forgiven(tmp_path: Path) -> None:
    (tmp_path / "initialised.json").write_text("{}")
    swarm, docker = mode(tmp_path, "inactive")
    assert swarm.release() is not None
    assert ("swarm", "leave", "--force") not in docker.calls
    assert not (tmp_path / "initialised.json").exists()


def test_a_swarm_in_another_state_is_not_touched(tmp_path: Path) -> None:
    swarm, _docker = mode(tmp_path, "locked")
    with pytest.raises(StackError, match="locked"):
        swarm.ensure()
    assert not (tmp_path / "initialised.json").exists()
