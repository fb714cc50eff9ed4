"""load.workers > 1: one Locust master and N workers as processes, every one of them recorded, watched and
stopped (by the driver, by the sweep after a crash); a worker that dies is reported, never ignored. With a
stand-in for Locust (fake_locust.py); the real one runs in test_load_distributed.py."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from test_load_locust_driver import BOUNDS, exited, settings

from harness.catalogue import parse_text
from harness.catalogue.model import LoadLevel
from harness.errors import InputError
from harness.faults import Journal, sweep
from harness.load import LoadError, LocustLoad, running
from harness.load.locustload import build_command, build_env
from harness.load.workers import worker_command

LEVEL = LoadLevel(users=4, spawn_rate=40, rate=40.0, workers=2)


def test_the_master_waits_on_loopback_for_its_workers_and_each_worker_paces_users_to_the_whole_load(
    tmp_path: Path,
) -> None:
    config = settings(tmp_path, locustfile=Path("f.py"))
    master = build_command(config, LEVEL, 60, master_port=41234)
    assert master[-9:] == [
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        "41234",
        "--expect-workers",
        "2",
        "--expect-workers-max-wait",
        "10",
    ]
    assert "--master" not in build_command(config, LEVEL, 60)
    worker = worker_command(("locust",), Path("f.py"), "http://127.0.0.1:8080", 41234)
    assert worker == [
        "locust", "-f", "f.py", "--worker", "--master-host", "127.0.0.1", "--master-port", "41234",
        "--host", "http://127.0.0.1:8080",
    ]  # fmt: skip
    env = build_env(config, LEVEL, "r", tmp_path / "p", {}, parent=1)
    assert (env["LOAD_USERS"], env["LOAD_RATE"]) == ("4", "40")  # rate / users per user, whatever the worker


def processes(journal: Journal) -> list[int]:
    return [load.pid for load in journal.loads()]


def test_master_and_every_worker_are_recorded_while_running_and_all_stopped_and_forgotten(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.json")
    driver = LocustLoad(settings(tmp_path), register=journal)
    driver.start(LEVEL, 10, "two-workers")
    try:
        loads = journal.loads()
        assert len(loads) == 3 and loads[0].pid == driver.pid
        assert [load.pushgateway_url for load in loads[1:]] == ["", ""]  # only the master's group exists
        pids = processes(journal)
        assert all(psutil.pid_exists(pid) and not exited(pid) for pid in pids)
        assert driver.progress().lost_workers == 0
    finally:
        summary = driver.stop()
    assert summary.lost == ()
    assert all(exited(pid) for pid in pids)
    assert journal.loads() == []
    assert sorted(p.name for p in (tmp_path / "two-workers").glob("locust*.log")) == [
        "locust-worker-1.log",
        "locust-worker-2.log",
        "locust.log",
    ]


def test_a_ctrl_c_in_the_scenario_stops_the_master_and_every_worker(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    pids: list[int] = []
    with (
        pytest.raises(KeyboardInterrupt),
        running(LocustLoad(settings(tmp_path), register=journal), LEVEL, 10, "ctrl-c"),
    ):
        pids = processes(journal)
        raise KeyboardInterrupt
    assert len(pids) == 3 and all(exited(pid) for pid in pids)
    assert journal.loads() == []


def test_the_sweep_after_a_killed_harness_stops_the_master_and_every_worker(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    driver = LocustLoad(settings(tmp_path), register=journal)
    driver.start(LEVEL, 10, "killed-harness")
    pids = processes(journal)
    try:
        report = sweep(journal, None, None)  # what `harness clean` and the next run do
        assert report.ok, report.errors
        assert len([line for line in report.cleaned if line.startswith("stopped the load")]) == 3
        deadline = time.monotonic() + 5
        while not all(exited(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(exited(pid) for pid in pids)
        assert journal.loads() == []
    finally:
        driver.stop()


def test_a_worker_that_dies_is_reported_with_when_it_was_last_seen_running(tmp_path: Path) -> None:
    driver = LocustLoad(settings(tmp_path, "worker-dies"))
    before = time.time()
    driver.start(LEVEL, 10, "worker-dies")
    try:
        deadline = time.monotonic() + 5
        while driver.progress().lost_workers < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert driver.progress().lost_workers == 2
    finally:
        summary = driver.stop()
    assert [(loss.worker, loss.exit_code) for loss in summary.lost] == [(1, 5), (2, 5)]
    assert all(before <= loss.since <= time.time() for loss in summary.lost)
    assert "Locust worker 1 (pid" in summary.lost[0].describe()


def test_a_worker_that_cannot_start_fails_the_start_with_its_last_line_and_nothing_is_left(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.json")
    driver = LocustLoad(settings(tmp_path, "worker-crash"), register=journal)
    started = time.monotonic()
    with pytest.raises(
        LoadError,
        match=r"Locust worker 1 \(pid \d+\) exited with code 2 while the load started: locustfile: refusing host: boom",
    ):
        driver.start(LEVEL, 10, "worker-crash")
    assert time.monotonic() - started < 5  # not the whole start timeout
    assert journal.loads() == [] and driver.pid is not None and exited(driver.pid)


def test_workers_told_to_stop_are_not_losses(tmp_path: Path) -> None:
    driver = LocustLoad(settings(tmp_path))
    driver.start(LEVEL, 10, "clean-stop")
    assert driver.stop().lost == ()


CATALOGUE = """\
version: 1
defaults:
  load: {{users: 4, rate: 8{workers}}}
scenarios:
  baseline: {{windows: {{steady: 20s}}{scenario_load}}}
objectives:
  - id: up
    rule: "7.1"
    scenarios: all
    window: steady
    promql: {{query: "min(up)", comparator: "==", threshold: 1}}
"""


def test_workers_default_to_one_and_a_scenario_inherits_or_overrides_them():
    plain = parse_text(CATALOGUE.format(workers="", scenario_load=""))
    assert plain.defaults.load.workers == 1 and plain.scenarios[0].load.workers == 1
    two = parse_text(CATALOGUE.format(workers=", workers: 2", scenario_load=""))
    assert two.scenarios[0].load.workers == 2
    three = parse_text(CATALOGUE.format(workers="", scenario_load=", load: {workers: 3}"))
    assert three.scenarios[0].load.workers == 3


@pytest.mark.parametrize(
    ("workers", "scenario_load", "message"),
    [
        (", workers: 5", "", "<string>:3: defaults.load.workers: 5 workers for 4 users"),
        (", workers: 0", "", "<string>:3: defaults.load.workers"),
        (
            ", workers: 2",
            ", load: {users: 1}",
            "<string>:5: scenarios.baseline.load.users: 2 workers for 1 users",
        ),
    ],
)
def test_more_workers_than_users_or_none_at_all_is_one_line_naming_the_field(workers, scenario_load, message):
    with pytest.raises(InputError) as error:
        parse_text(CATALOGUE.format(workers=workers, scenario_load=scenario_load))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_the_bounds_hold_for_the_whole_load_not_per_worker(tmp_path: Path) -> None:
    driver = LocustLoad(settings(tmp_path))
    over = LoadLevel(users=BOUNDS.max_users + 1, spawn_rate=1, rate=1, workers=2)
    with pytest.raises(Exception, match="exceeds its bound"):
        driver.start(over, 10, "too-many")
    assert driver.stop().lost == ()
    assert not (tmp_path / "too-many").exists()  # refused before anything was started
