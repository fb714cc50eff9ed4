"""LocustLoad's command line, environment and process handling, with a stand-in for Locust."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
from load_support import FAKE_LOCUST

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load import LoadError, LocustLoad, LocustSettings, delete_stale_groups
from harness.load.conformance import check_driver
from harness.load.locustload import build_command, build_env, read_progress

LEVEL = LoadLevel(users=3, spawn_rate=30, rate=40.0)
BOUNDS = LoadBounds(max_users=10, max_rate=100, max_duration=60)


def settings(tmp_path: Path, mode: str = "ok", **changes: object) -> LocustSettings:
    fields: dict = {
        "locustfile": Path("load/locustfile.py"),
        "bounds": BOUNDS,
        "workdir": tmp_path,
        "start_timeout": 10.0,
        "stop_grace": 1.0,
        "scrape_delay": 0.0,
        "run_time_slack": 5.0,
        "command": (sys.executable, str(FAKE_LOCUST), "--mode", mode),
    }
    fields.update(changes)
    return LocustSettings(**fields)


def exited(pid: int) -> bool:
    """Exited and not yet reaped (the driver reaps it), or gone."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_command_runs_locust_headless_bounded_in_users_and_time():
    command = build_command(
        LocustSettings(Path("load/locustfile.py"), host="http://127.0.0.1:8080", run_time_slack=10),
        LoadLevel(users=7, spawn_rate=2.5, rate=30),
        62.2,
    )
    assert command[:3] == [sys.executable, "-m", "locust"]
    text = " ".join(command[3:])
    assert text == (
        "-f load/locustfile.py --headless --only-summary --users 7 --spawn-rate 2.5 --run-time 73s"
        " --host http://127.0.0.1:8080 --exit-code-on-error 0"
    )


def test_the_environment_carries_rate_run_and_push_and_drops_stray_locust_settings(tmp_path):
    base = {"PATH": "/bin", "LOCUST_MODE_MASTER": "1", "LOAD_USERS": "99", "PUSHGATEWAY_URL": "http://x:1"}
    env = build_env(
        LocustSettings(Path("f.py"), pushgateway_url="", request_timeout=12.5),
        LoadLevel(users=2, spawn_rate=1, rate=7.5),
        "run-1",
        tmp_path / "p.json",
        base,
        parent=4242,
    )
    assert env == {
        "PATH": "/bin",
        "LOAD_PARENT_PID": "4242",
        "LOAD_RATE": "7.5",
        "LOAD_USERS": "2",
        "LOAD_TIMEOUT": "12.5",
        "LOAD_RUN_ID": "run-1",
        "LOAD_PROGRESS_FILE": str(tmp_path / "p.json"),
        "PUSHGATEWAY_URL": "",
    }


def test_progress_files_are_read_and_a_foreign_file_is_an_error(tmp_path):
    path = tmp_path / "progress.json"
    assert read_progress(path) is None
    path.write_text('{"state": "running", "users": 3, "rps": 9.5, "requests": 12, "failures": 1}')
    progress = read_progress(path)
    assert progress is not None and (progress.users, progress.rps, progress.requests) == (3, 9.5, 12)
    path.write_text('{"users": 3}')
    with pytest.raises(LoadError, match="not a progress file"):
        read_progress(path)


def test_locust_load_passes_the_driver_conformance_check(tmp_path, pushgateway):
    driver = LocustLoad(settings(tmp_path, pushgateway_url=pushgateway.url))
    check_driver(driver, BOUNDS, LEVEL, 20, "conf-run", patience=5.0)
    assert pushgateway.requests == [("DELETE", "/metrics/job/locust/instance/conf-run")]
    assert (tmp_path / "conf-run" / "locust.log").exists()


def test_a_non_loopback_host_is_refused_before_anything_starts(tmp_path):
    driver = LocustLoad(settings(tmp_path, host="http://10.0.0.1:8080"))
    with pytest.raises(LoadError, match="not loopback"):
        driver.start(LEVEL, 10, "far")
    assert not (tmp_path / "far").exists()


def test_a_locust_that_exits_at_once_fails_start_with_its_last_line(tmp_path):
    driver = LocustLoad(settings(tmp_path, "crash"))
    with pytest.raises(LoadError, match=r"exited with code 3: locustfile: refusing host: boom"):
        driver.start(LEVEL, 10, "crash")
    assert driver.stop().exit_code == 3


def test_a_locust_that_never_reports_fails_start_and_is_stopped(tmp_path):
    driver = LocustLoad(settings(tmp_path, "silent", start_timeout=1.0))
    started = time.monotonic()
    with pytest.raises(LoadError, match="3 Locust users to run"):
        driver.start(LEVEL, 10, "silent")
    assert time.monotonic() - started < 8
    # SIGTERM stopped it: handled (0), or before its handler was installed on a slow box (-15).
    assert driver.stop().exit_code in (0, -signal.SIGTERM)


def test_a_locust_ignoring_sigterm_is_killed_with_its_group_after_the_grace(tmp_path, pushgateway):
    pushgateway.status = 500
    driver = LocustLoad(settings(tmp_path, "ignore-term", pushgateway_url=pushgateway.url))
    driver.start(LEVEL, 10, "stubborn")
    pid = driver.pid
    assert pid is not None
    started = time.monotonic()
    summary = driver.stop()
    assert 0.9 < time.monotonic() - started < 6
    assert summary.exit_code == -9
    assert any("ignored SIGTERM" in w for w in summary.warnings)
    assert any("HTTP 500" in w for w in summary.warnings)  # stop() reports, never raises
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_a_load_that_ended_by_itself_stops_quietly_with_its_figures(tmp_path):
    driver = LocustLoad(settings(tmp_path, run_time_slack=0.0))
    driver.start(LEVEL, 2, "short")
    pid = driver.pid
    assert pid is not None
    deadline = time.monotonic() + 10
    while not exited(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.progress().users == 0
    summary = driver.stop()
    assert (summary.exit_code, summary.warnings) == (0, ())
    assert summary.requests >= 40, summary


def test_sweeping_an_unreachable_pushgateway_is_a_load_error():
    with pytest.raises(LoadError, match="could not list Pushgateway groups"):
        delete_stale_groups("http://127.0.0.1:9", timeout=1.0)


def test_an_interrupt_during_the_last_scrape_delay_still_deletes_the_group(
    tmp_path, pushgateway, monkeypatch
):
    # Found by the interrupt trials: Ctrl-C in the pause before the delete left the run's group pushed.
    driver = LocustLoad(settings(tmp_path, pushgateway_url=pushgateway.url, scrape_delay=30.0))
    driver.start(LEVEL, 20, "cut-short")

    real_sleep = time.sleep

    def interrupted(seconds: float) -> None:
        if seconds == 30.0:  # the scrape delay; process waits sleep too, and go on
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        driver.stop()
    assert ("DELETE", "/metrics/job/locust/instance/cut-short") in pushgateway.requests
