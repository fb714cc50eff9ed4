"""Pressure faults on the real engine, on a throwaway sleeper with a 128 MiB limit and half a core (project
"pressuretest"): memory pressed inside its cgroup and reverted, pressed past its limit (the OOM killer takes
the helper's workers inside the target's limit, and the fault says so), CPU pressed; and through the real
entry points, ``python -m harness run`` interrupted during each fault: SIGINT reverts it, SIGKILL leaves the
helper for ``python -m harness clean``. The runs keep their journal and lock in a folder of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cleaning import harness_clean

from harness.catalogue.model import FaultSpec
from harness.faults import FaultError, Journal, applied, build_fault
from harness.faults.stress import HELPER_LABEL, IMAGE, TARGET_ID_LABEL, PressureFault, read_usage
from harness.images import build_images
from harness.stack import Stack
from harness.state import STATE_DIR_ENV, journal_path

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "pressuretest.yml"
PROJECT = "pressuretest"
NO_PROXY = "http://127.0.0.1:9"  # never called: no proxy fault here
MiB = 1024**2
LIMIT = 128 * MiB


@pytest.fixture(scope="module")
def stack(throwaway_stack: Callable[[Path, str], AbstractContextManager[Stack]]) -> Iterator[Stack]:
    build_images([IMAGE])  # inject builds it too; here, so that no test below times a build
    with throwaway_stack(FIXTURE, PROJECT) as running:
        yield running
    assert helpers(running) == [], "a stress helper outlived the tests"


def helpers(stack: Stack) -> list[str]:
    found = stack.client.containers.list(all=True, filters={"label": [f"{HELPER_LABEL}=stress"]})
    return [c.name for c in found if c.labels.get("harness.project") == PROJECT]


def target(stack: Stack):
    container = stack.container("target")
    container.reload()
    return container


def working_set(stack: Stack) -> int:
    return read_usage(stack.client, target(stack).id, "test").working_set


def pressure(stack: Stack, kind: str, *attributes: tuple[str, float]) -> PressureFault:
    fault = build_fault(FaultSpec(kind, "target", attributes), stack, NO_PROXY, run_id="itest")  # type: ignore[arg-type]
    assert isinstance(fault, PressureFault)
    return fault


def settled(stack: Stack, below: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while (now := working_set(stack)) > below and time.monotonic() < deadline:
        time.sleep(0.25)
    return now


def test_memory_pressure_of_64_mib_is_charged_to_the_target_and_reverted(
    stack: Stack, tmp_path: Path
) -> None:
    base = working_set(stack)
    fault = pressure(stack, "memory_pressure", ("bytes", 64 * MiB), ("ramp", 3.0))
    started = time.monotonic()
    with applied(fault, Journal(tmp_path / "j.json")):
        proven_in = time.monotonic() - started
        rise = working_set(stack) - base
        helper = stack.client.containers.get(fault.helper)
        assert helper.attrs["HostConfig"]["CgroupParent"] == f"/docker/{target(stack).id}"
        assert helper.labels[TARGET_ID_LABEL] == target(stack).id and helper.labels["harness.run"] == "itest"
        assert fault.in_force()
        print(f"\n64 MiB over a 3 s ramp: proven in {proven_in:.1f} s, working set +{rise / MiB:.1f} MiB")
        assert 0.9 * 64 * MiB <= rise <= 64 * MiB + 12 * MiB  # stress-ng's own few MiB on top
        assert proven_in >= 2.5  # the last worker starts only when the ramp is done
    assert helpers(stack) == [] and not fault.in_force()
    after = settled(stack, base + 4 * MiB)
    assert after <= base + 4 * MiB, f"working set {after / MiB:.1f} MiB, {base / MiB:.1f} MiB before"


def test_past_its_limit_the_oom_killer_takes_the_helpers_workers_inside_the_targets_limit(
    stack: Stack, tmp_path: Path
) -> None:
    before = target(stack).attrs["State"]
    fault = pressure(stack, "memory_pressure", ("fraction_of_limit", 1.2))
    started = time.monotonic()
    with applied(fault, Journal(tmp_path / "j.json")):
        took = time.monotonic() - started
        print(f"\n1.2 x the limit: {fault.describe()} ({took:.1f} s)")
        assert took < 15, "it must report the OOM, not wait it out"
        assert (
            "pressed to its limit" in fault.describe() and "OOM event(s) inside its limit" in fault.describe()
        )
        stats = stack.client.api.stats(target(stack).id, stream=False, one_shot=True)["memory_stats"]
        assert stats["max_usage"] <= LIMIT  # bounded by the target's own limit
        assert 0.7 * LIMIT <= working_set(stack) <= LIMIT
        assert fault.in_force()  # the workers that fit hold on
    now = target(stack).attrs["State"]
    assert now["Running"] and now["StartedAt"] == before["StartedAt"], "the target itself was not touched"
    assert helpers(stack) == []


def test_a_helper_whose_every_worker_is_oom_killed_is_reported_at_once(stack: Stack, tmp_path: Path) -> None:
    fault = pressure(stack, "memory_pressure", ("bytes", 4 * 200 * MiB))  # each worker alone exceeds 128 MiB
    started = time.monotonic()
    with (
        pytest.raises(FaultError, match=r"the helper was OOM-killed inside the target's 128 MiB limit"),
        applied(fault, Journal(tmp_path / "j.json")),
    ):
        pytest.fail("not proven: the body must not run")
    print(f"\nall workers OOM-killed: reported in {time.monotonic() - started:.1f} s")
    assert time.monotonic() - started < 15
    assert helpers(stack) == [] and target(stack).attrs["State"]["Running"]


def test_cpu_pressure_is_proven_by_the_targets_cpu_rate_and_bounded_by_its_quota(
    stack: Stack, tmp_path: Path
) -> None:
    fault = pressure(stack, "cpu_pressure", ("workers", 2.0))
    with applied(fault, Journal(tmp_path / "j.json")):
        print(f"\n{fault.describe()}")
        first = read_usage(stack.client, target(stack).id, "test")
        time.sleep(2)
        second = read_usage(stack.client, target(stack).id, "test")
        rate = (second.cpu_seconds - first.cpu_seconds) / (second.at - first.at)
        assert 0.3 <= rate <= 0.6, f"{rate:.2f} cores: two busy workers within half a core"
    assert helpers(stack) == []


# --- through `python -m harness run` and `python -m harness clean` ------------------------------------

SLAS = """
version: 1
defaults:
  prometheus: {url: "http://127.0.0.1:9"}
  endpoints: {gateway: "http://127.0.0.1:9", faultproxy: "http://127.0.0.1:9"}
  load: {users: 1, spawn_rate: 1, rate: 1}
load: {requests: [{name: health, path: /health}]}
scenarios:
  quiet:
    windows: {steady: 2s}
  press-memory:
    windows: {steady: 2s, fault: 120s, recovery: 2s}
    fault: {kind: memory_pressure, target: target, bytes: 32m}
  press-cpu:
    windows: {steady: 2s, fault: 120s, recovery: 2s}
    fault: {kind: cpu_pressure, target: target, workers: 1, load: 50}
objectives:
  - id: health
    rule: "8.1"
    scenarios: all
    window: whole
    analyzer: {name: response_time, params: {threshold: 1s}}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "slas.yaml").write_text(SLAS)
    return {**os.environ, STATE_DIR_ENV: str(tmp_path / "state")}


def start_run(tmp_path: Path, env: dict[str, str], scenario: str) -> subprocess.Popen[bytes]:
    argv = [
        *(sys.executable, "-m", "harness", "run", "--stack", str(FIXTURE), "--project-name", PROJECT),
        *("--slas", str(tmp_path / "slas.yaml"), "--reports", str(tmp_path / "reports"), "--keep-stack"),
        *("--", "-k", scenario),
    ]
    return subprocess.Popen(argv, cwd=REPO, env=env)


def wait_for_helper(stack: Stack, run: subprocess.Popen[bytes], kind: str, timeout: float = 180) -> str:
    name = f"harness-{kind.replace('_', '-')}-{target(stack).id[:12]}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before its fault was injected"
        if name in helpers(stack):
            time.sleep(3)  # past the proof: the fault window has begun
            return name
        time.sleep(0.5)
    raise AssertionError(f"no helper {name} came up")


@pytest.mark.parametrize(
    ("scenario", "kind"), [("press-memory", "memory_pressure"), ("press-cpu", "cpu_pressure")]
)
def test_sigint_during_a_pressure_fault_removes_its_helper(
    stack: Stack, tmp_path: Path, env: dict[str, str], scenario: str, kind: str
) -> None:
    run = start_run(tmp_path, env, scenario)
    try:
        wait_for_helper(stack, run, kind)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=120) == 2
    finally:
        run.kill()
        run.wait()
    assert helpers(stack) == []
    journal = Journal(Path(env[STATE_DIR_ENV]) / PROJECT / journal_path(PROJECT).name)
    assert journal.entries() == [] and journal.loads() == []


def clean(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return harness_clean(tmp_path / "slas.yaml", env, FIXTURE, PROJECT)


@pytest.mark.parametrize(
    ("scenario", "kind", "after"),
    [
        ("press-memory", "memory_pressure", "clean"),
        ("press-cpu", "cpu_pressure", "clean"),
        ("press-memory", "memory_pressure", "next run"),
    ],
)
def test_sigkill_during_a_pressure_fault_leaves_its_helper_for_clean_and_the_next_run(
    stack: Stack, tmp_path: Path, env: dict[str, str], scenario: str, kind: str, after: str
) -> None:
    run = start_run(tmp_path, env, scenario)
    try:
        name = wait_for_helper(stack, run, kind)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        run.kill()
        run.wait()
    assert helpers(stack) == [name], "SIGKILL gives the harness no chance to remove it"
    line = f"reverted {kind} on service target (helper {name}) (journal, pid {run.pid})"
    if after == "clean":
        cleaned = clean(tmp_path, env)
        print(cleaned.stdout, cleaned.stderr)
        assert cleaned.returncode == 0, cleaned.stderr
        assert f"cleaned: {line}" in cleaned.stdout
    else:  # the next run's start-up sweep, before anything of its own
        argv = [
            *(sys.executable, "-m", "harness", "run", "--stack", str(FIXTURE), "--project-name", PROJECT),
            *("--slas", str(tmp_path / "slas.yaml"), "--reports", str(tmp_path / "next"), "--keep-stack"),
            *("--", "-k", "quiet"),
        ]
        following = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert f"harness: left by a crashed run: {line}" in following.stderr, following.stderr
    assert helpers(stack) == []


def test_a_helper_no_journal_names_is_removed_by_clean_through_its_label(
    stack: Stack, tmp_path: Path, env: dict[str, str]
) -> None:
    fault = pressure(stack, "cpu_pressure", ("workers", 1.0), ("load", 20.0))
    fault.inject()  # as if the run died between starting the helper and its journal entry
    cleaned = clean(tmp_path, env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert (
        f"cleaned: removed stress helper {fault.helper} (cpu_pressure on target, run itest)" in cleaned.stdout
    )
    assert helpers(stack) == []
