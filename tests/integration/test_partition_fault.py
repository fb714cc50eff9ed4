"""The partition fault on the real engine, on throwaway sleepers (project "partitiontest"): cut from one
network or from all but one, proven from the engine; reconnected with its aliases, so its neighbour resolves
it by service name again; a partition a killed run left is healed by `harness clean` from the journal. With
`mode: drop` alpha stays on "back", its name resolves and nothing answers, and the rules are deleted at revert
or by `harness clean`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import Journal, applied, build_fault
from harness.stack import Stack
from harness.state import STATE_DIR_ENV

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "partitiontest.yml"
PROJECT = "partitiontest"
NO_PROXY = "http://127.0.0.1:9"
REPO = Path(__file__).resolve().parents[2]
SLAS = """
version: 1
defaults:
  prometheus: {url: "http://127.0.0.1:9"}
  endpoints: {gateway: "http://127.0.0.1:9", faultproxy: "http://127.0.0.1:9"}
scenarios:
  alpha-cut: {fault: {kind: partition, target: alpha, network: back}}
objectives:
  - {id: up, rule: "7.1", scenarios: all, window: steady, promql: {query: min(up), comparator: "==", threshold: 1}}
"""


@pytest.fixture(scope="module")
def stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with throwaway_stack(FIXTURE, PROJECT) as running:
        yield running


def networks(stack: Stack, service: str) -> set[str]:
    container = stack.container(service)
    container.reload()
    return {name.removeprefix(f"{PROJECT}_") for name in container.attrs["NetworkSettings"]["Networks"]}


def beta_resolves_alpha(stack: Stack) -> bool:
    return stack.container("beta").exec_run(["getent", "hosts", "alpha"]).exit_code == 0


def test_cut_from_one_network_and_reconnected_with_its_service_name(stack: Stack, tmp_path: Path) -> None:
    assert networks(stack, "alpha") == {"front", "back"} and beta_resolves_alpha(stack)
    fault = build_fault(FaultSpec("partition", "alpha", network="back"), stack, NO_PROXY)
    with applied(fault, Journal(tmp_path / "j.json")):
        assert networks(stack, "alpha") == {"front"} and fault.in_force()
        assert not beta_resolves_alpha(stack)
    assert networks(stack, "alpha") == {"front", "back"}
    assert beta_resolves_alpha(stack)  # the alias "alpha" came back with the network


def test_cut_from_all_but_one(stack: Stack, tmp_path: Path) -> None:
    fault = build_fault(FaultSpec("partition", "alpha", keep_network="front"), stack, NO_PROXY)
    with applied(fault, Journal(tmp_path / "j.json")):
        assert networks(stack, "alpha") == {"front"}
    assert networks(stack, "alpha") == {"front", "back"} and beta_resolves_alpha(stack)


def clean(journal: Journal, tmp_path: Path) -> None:
    """`harness clean` as after a killed run, through its entry point: it must revert the journalled partition."""
    (tmp_path / "slas.yaml").write_text(SLAS)
    cleaned = subprocess.run(
        [
            *(sys.executable, "-m", "harness", "clean", "--stack", str(FIXTURE), "--project-name", PROJECT),
            *("--slas", str(tmp_path / "slas.yaml"), "--no-proxy", "--journal", str(journal.path)),
        ],
        cwd=REPO,
        env={**os.environ, STATE_DIR_ENV: str(tmp_path / "state")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cleaned.returncode == 0, cleaned.stderr
    assert "cleaned: reverted partition service alpha" in cleaned.stdout


def test_a_partition_left_by_a_killed_run_is_healed_by_clean(stack: Stack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    fault = build_fault(FaultSpec("partition", "alpha", network="back"), stack, NO_PROXY)
    journal.add(fault.record(), pid=99999, since=0.0)  # the run died with the partition in force
    fault.inject()
    clean(journal, tmp_path)
    assert networks(stack, "alpha") == {"front", "back"} and beta_resolves_alpha(stack)


def beta_reaches_alpha(stack: Stack) -> bool:
    """Whether alpha answers beta on "back" within 2 s: a connection to port 9, where nothing listens, is
    refused at once when packets flow; when they are dropped, nothing answers (timeout exits 124)."""
    probe = ["timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/alpha/9"]
    return stack.container("beta").exec_run(probe).exit_code != 124


def test_drop_mode_keeps_the_name_and_drops_the_packets(stack: Stack, tmp_path: Path) -> None:
    assert beta_reaches_alpha(stack)
    fault = build_fault(FaultSpec("partition", "alpha", network="back", mode="drop"), stack, NO_PROXY)
    with applied(fault, Journal(tmp_path / "j.json")):
        assert fault.in_force() and networks(stack, "alpha") == {"front", "back"}
        assert beta_resolves_alpha(stack)  # still on the network: its name resolves
        assert not beta_reaches_alpha(stack)  # and nothing answers
    assert not fault.in_force() and beta_reaches_alpha(stack)


def test_drop_rules_left_by_a_killed_run_are_deleted_by_clean(stack: Stack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    fault = build_fault(FaultSpec("partition", "alpha", network="back", mode="drop"), stack, NO_PROXY)
    journal.add(fault.record(), pid=99999, since=0.0)  # the run died with the rules in force
    fault.inject()
    assert not beta_reaches_alpha(stack)
    clean(journal, tmp_path)
    assert not fault.in_force() and beta_reaches_alpha(stack)
