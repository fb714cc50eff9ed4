"""Pressure faults on the fake engine: memory and CPU pressed inside the target's cgroup, proven from the
target's own usage, refused where they would prove nothing, journalled, reverted and swept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import docker.errors
import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import FaultError, FaultRecord, FaultRefused, Journal, applied, build_fault, sweep
from harness.faults.fake import FakeContainer, FakeEngine, FakeStack
from harness.faults.stress import (
    HELPER_LABEL,
    TARGET_ID_LABEL,
    CpuLoad,
    PressureFault,
    cpu_ceiling,
    remove_orphan_cgroups,
)

MiB = 1024**2
NO_PROXY = "http://127.0.0.1:9"


def stack_with(limit: int = 128 * MiB, nano_cpus: int = 0, name: str = "agent") -> FakeStack:
    container = FakeContainer(name)
    container.attrs["HostConfig"].update(Memory=limit, NanoCpus=nano_cpus, CgroupParent="")
    container.attrs["Config"]["Labels"] = {"com.docker.compose.project": "demo"}
    return FakeStack(container)


def pressure(
    stack: FakeStack, kind: str, *attributes: tuple[str, float], target: str = "agent"
) -> PressureFault:
    fault = build_fault(FaultSpec(kind, target, attributes), stack, NO_PROXY, run_id="run-1")  # type: ignore[arg-type]
    assert isinstance(fault, PressureFault)
    # Seconds, not the real run's: the fake shows at once what it shows at all.
    return replace(fault, settle_timeout=0.5, cpu_sample=0.05)


def engine(stack: FakeStack) -> FakeEngine:
    assert isinstance(stack.client, FakeEngine)
    return stack.client


def test_memory_pressure_runs_in_the_targets_cgroup_is_proven_and_reverted() -> None:
    stack = stack_with()
    fault = pressure(stack, "memory_pressure", ("bytes", 64 * MiB), ("ramp", 6.0))
    fault.inject()
    [helper] = engine(stack).helpers
    target = stack.container("agent")
    assert helper.options["cgroup_parent"] == f"/docker/{target.id}"
    assert helper.options["network_mode"] == "none" and helper.options["read_only"]
    assert helper.options["cap_drop"] == ["ALL"] and helper.options["image"] == "harness/stress:local"
    assert helper.command == [
        *("--vm", "4", "--vm-bytes", str(64 * MiB), "--vm-keep", "--vm-hang", "0"),
        *("--oomable", "--backoff", "2000000"),
    ]
    labels = helper.attrs["Config"]["Labels"]
    assert labels[HELPER_LABEL] == "stress" and labels[TARGET_ID_LABEL] == target.id
    assert (labels["harness.run"], labels["harness.target"], labels["harness.project"]) == (
        "run-1",
        "agent",
        "demo",
    )
    assert fault.in_force()
    assert "its working set rose by 64 MiB" in fault.describe()
    assert fault.describe().startswith(
        "memory pressure on service agent: 64 MiB (0.5 of its 128 MiB limit), reached over 6 s, inside its cgroup"
    )
    fault.revert()
    assert not fault.in_force() and helper.removed
    fault.revert()  # twice is harmless


def test_fraction_of_limit_is_of_the_targets_limit_and_refused_without_one() -> None:
    stack = stack_with(limit=200 * MiB)
    fault = pressure(stack, "memory_pressure", ("fraction_of_limit", 0.5))
    fault.inject()
    assert engine(stack).helpers[0].command[3] == str(100 * MiB)
    fault.revert()
    unlimited = stack_with(limit=0)
    with pytest.raises(FaultRefused, match=r"to 0\.5 of its limit: it has none"):
        pressure(unlimited, "memory_pressure", ("fraction_of_limit", 0.5)).inject()
    assert engine(unlimited).helpers == []


def test_past_the_limit_the_oom_killer_fires_inside_it_and_the_rest_holds() -> None:
    stack = stack_with()  # 128 MiB, the target itself holds 8 MiB
    fault = pressure(stack, "memory_pressure", ("fraction_of_limit", 1.2))
    fault.inject()
    assert fault.in_force()
    assert engine(stack).helpers[0].memory == round(3 * 1.2 * 128 * MiB / 4)  # three of four workers fit
    assert "pressed to its limit: working set 123.2 MiB of 128 MiB, 1 OOM event(s) inside its limit" in (
        fault.describe()
    )
    fault.revert()


def test_a_helper_whose_workers_were_all_oom_killed_is_reported_not_waited_for(tmp_path: Path) -> None:
    stack = stack_with()
    fault = pressure(stack, "memory_pressure", ("bytes", 4 * 200 * MiB))
    journal = Journal(tmp_path / "j.json")
    with (
        pytest.raises(FaultError, match=r"OOM-killed inside the target's 128 MiB limit \(4 OOM event"),
        applied(fault, journal),
    ):
        pytest.fail("not proven: the body must not run")
    assert engine(stack).helpers[0].removed and journal.entries() == []


def test_pressure_that_does_not_show_is_not_proven_and_is_removed(tmp_path: Path) -> None:
    stack = stack_with()
    engine(stack).inert = True
    fault = pressure(stack, "memory_pressure", ("bytes", 32 * MiB))
    with (
        pytest.raises(FaultError, match=r"rose by only 0 B of 32 MiB .*is /docker/fake-agent its cgroup"),
        applied(fault, Journal(tmp_path / "j.json")),
    ):
        pass
    assert engine(stack).helpers[0].removed


@pytest.mark.parametrize(("version", "driver"), [("2", "cgroupfs"), ("1", "systemd")])
def test_an_engine_other_than_cgroup_v1_with_cgroupfs_is_refused(version: str, driver: str) -> None:
    stack = stack_with()
    engine(stack).cgroup = (version, driver)
    with pytest.raises(
        FaultRefused,
        match=f"needs cgroup v1 with the cgroupfs driver; this engine has cgroup v{version} with the {driver} driver",
    ):
        pressure(stack, "memory_pressure", ("bytes", MiB)).inject()
    assert engine(stack).helpers == []


def test_a_target_that_does_not_run_or_a_helper_already_there_is_refused() -> None:
    stack = stack_with()
    stack.container("agent").stop(timeout=0)
    with pytest.raises(FaultRefused, match="the target is exited"):
        pressure(stack, "memory_pressure", ("bytes", MiB)).inject()
    stack.container("agent").start()
    first = pressure(stack, "cpu_pressure", ("workers", 1.0))
    first.inject()
    with pytest.raises(
        FaultRefused, match=r"helper harness-cpu-pressure-fake-agent is there already \(`harness clean`\)"
    ):
        pressure(stack, "cpu_pressure", ("workers", 1.0)).inject()
    assert first.in_force()
    first.revert()


def test_cpu_pressure_is_proven_by_the_targets_cpu_rate_within_its_quota() -> None:
    stack = stack_with(nano_cpus=500_000_000)  # --cpus 0.5
    engine(stack).cpu_rate["fake-agent"] = 0.1
    fault = pressure(stack, "cpu_pressure", ("workers", 2.0), ("load", 50.0))
    fault.inject()
    helper = engine(stack).helpers[0]
    assert helper.command == ["--cpu", "2", "--cpu-load", "50"]
    assert helper.cpu == pytest.approx(0.4)  # the quota's 0.5 less the target's own 0.1
    assert "its CPU use rose from 0.10 to 0.50 cores (at most 0.5)" in fault.describe()
    fault.revert()
    assert not fault.in_force()


def test_cpu_pressure_on_a_target_already_at_its_quota_is_refused() -> None:
    stack = stack_with(nano_cpus=500_000_000)
    engine(stack).cpu_rate["fake-agent"] = 0.5
    with pytest.raises(FaultRefused, match=r"already uses 0\.50 of its 0\.5 cores, no rise could show"):
        pressure(stack, "cpu_pressure", ("workers", 1.0)).inject()
    assert engine(stack).helpers == []


def test_cpu_ceiling_is_the_least_of_host_quota_and_cpuset() -> None:
    assert cpu_ceiling({}, 2) == 2
    assert cpu_ceiling({"NanoCpus": 1_500_000_000}, 2) == 1.5
    assert cpu_ceiling({"CpuQuota": 50_000, "CpuPeriod": 100_000}, 4) == 0.5
    assert cpu_ceiling({"NanoCpus": 2_000_000_000, "CpusetCpus": "1"}, 4) == 1


def test_the_journal_names_the_helper_and_an_interrupt_removes_it(tmp_path: Path) -> None:
    stack = stack_with()
    journal = Journal(tmp_path / "j.json")
    fault = pressure(stack, "memory_pressure", ("bytes", 16 * MiB))
    with pytest.raises(KeyboardInterrupt), applied(fault, journal):
        [entry] = journal.entries()
        assert entry.record == FaultRecord("memory_pressure", "agent", "harness-memory-pressure-fake-agent")
        raise KeyboardInterrupt
    assert engine(stack).helpers[0].removed and journal.entries() == []


def test_a_killed_runs_pressure_is_removed_by_the_sweep_from_the_journal(tmp_path: Path) -> None:
    stack = stack_with()
    journal = Journal(tmp_path / "j.json")
    for kind, attribute in (("memory_pressure", ("bytes", 16 * MiB)), ("cpu_pressure", ("workers", 1.0))):
        fault = pressure(stack, kind, attribute)
        journal.add(fault.record(), pid=4242, since=0.0)
        fault.inject()  # ...and the harness is SIGKILLed
    report = sweep(journal, stack, None)
    assert report.ok, report.errors
    assert report.cleaned == (
        "reverted memory_pressure on service agent (helper harness-memory-pressure-fake-agent) (journal, pid 4242)",
        "reverted cpu_pressure on service agent (helper harness-cpu-pressure-fake-agent) (journal, pid 4242)",
    )
    assert all(h.removed for h in engine(stack).helpers) and journal.entries() == []
    assert sweep(journal, stack, None).cleaned == ()


def test_the_state_sweep_removes_helpers_of_the_stack_and_of_gone_targets_only(tmp_path: Path) -> None:
    stack = stack_with()
    other, gone = FakeContainer("elsewhere"), FakeContainer("removed")  # not the stack's containers
    stack.client = FakeEngine([*stack.all, other, gone])
    pressure(stack, "memory_pressure", ("bytes", 16 * MiB)).inject()  # the run died before journalling it
    for target in (other, gone):
        PressureFault(
            "cpu_pressure",
            target.name,
            target,
            stack.client,
            f"harness-cpu-pressure-{target.id}",
            cpu=CpuLoad(),
            cpu_sample=0.05,
        ).inject()
    gone.gone = True
    report = sweep(Journal(tmp_path / "none.json"), stack, None)
    assert report.ok, report.errors
    assert report.cleaned == (
        "removed stress helper harness-memory-pressure-fake-agent (memory_pressure on agent, run run-1)",
        "removed stress helper harness-cpu-pressure-fake-removed (cpu_pressure on removed, run ?)",
    )
    assert [h.name for h in engine(stack).helpers if not h.removed] == ["harness-cpu-pressure-fake-elsewhere"]


def test_a_pressure_entry_needs_the_stack(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    journal.add(FaultRecord("memory_pressure", "agent", "harness-memory-pressure-x"), pid=1, since=0.0)
    report = sweep(journal, None, None)
    assert report.errors == ("memory_pressure on agent: reverting it needs the stack (--stack)",)
    report = sweep(journal, FakeStack(), None)  # the helper is gone already: nothing to remove
    assert report.ok and journal.entries() == []


def test_only_a_removed_targets_own_empty_cgroup_directories_are_removed(tmp_path: Path) -> None:
    target = "a" * 64
    for controller in ("memory", "cpu", "pids"):
        (tmp_path / controller / "docker" / target).mkdir(parents=True)
    (tmp_path / "pids" / "docker" / target / "busy").mkdir()  # not empty: kept
    removed = remove_orphan_cgroups(f"/docker/{target}", target, tmp_path)
    assert removed == [tmp_path / "cpu" / "docker" / target, tmp_path / "memory" / "docker" / target]
    assert remove_orphan_cgroups("/docker", target, tmp_path) == []  # never anything but the target's own
    assert remove_orphan_cgroups(f"/docker/../{target}", target, tmp_path) == []


def test_an_engine_error_is_a_fault_error_naming_the_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = stack_with()

    def refused(*args: object, **kwargs: object) -> None:
        raise docker.errors.APIError("500 Server Error: events stream broken")

    monkeypatch.setattr(engine(stack), "events", refused)
    engine(stack).inert = True  # no rise: the proof asks the engine for OOM events
    fault = pressure(stack, "memory_pressure", ("bytes", 8 * MiB))
    with pytest.raises(
        FaultError, match=r"^memory pressure on service agent: .*the engine failed: .*events stream"
    ):
        fault.inject()
    fault.revert()
    assert engine(stack).helpers[0].removed
