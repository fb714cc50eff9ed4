"""A load a killed harness left running: recorded in the journal while it runs, stopped by the sweep (its
Pushgateway group deleted), never a process that merely reuses its pid."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
from pathlib import Path

import pytest
from test_load_locust_driver import LEVEL, settings

from harness.faults import Journal, sweep
from harness.load import LoadError, LocustLoad
from harness.load.process import LoadProcess, is_running, record, start_time, stop_leftover


def sleeper() -> subprocess.Popen[bytes]:
    """A stand-in for a leftover Locust: its own session, like the driver starts it."""
    return subprocess.Popen(["sleep", "60"], start_new_session=True)


def test_the_driver_records_locust_in_the_register_while_it_runs(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    driver = LocustLoad(settings(tmp_path), register=journal)
    driver.start(LEVEL, 10, "recorded")
    try:
        [load] = journal.loads()
        assert (load.pid, load.run_id, load.owner) == (driver.pid, "recorded", os.getpid())
        assert load.started == start_time(load.pid) and is_running(load)
    finally:
        driver.stop()
    assert journal.loads() == [] and not journal.path.exists()


def test_stop_leftover_stops_the_recorded_process_and_never_one_that_reuses_its_pid() -> None:
    process = sleeper()
    try:
        recorded = record(process.pid, "old-run", "")
        assert recorded is not None
        reused = dataclasses.replace(recorded, started=recorded.started - 1)  # same pid, another process
        assert not stop_leftover(reused, grace=1.0)
        assert process.poll() is None
        assert stop_leftover(recorded, grace=1.0)
        assert process.wait(timeout=5) == -15
        assert not stop_leftover(recorded, grace=1.0)  # gone: nothing to do
    finally:
        process.kill()
        process.wait()


def test_the_sweep_stops_a_leftover_load_and_deletes_its_pushgateway_group(
    tmp_path: Path, pushgateway
) -> None:
    journal = Journal(tmp_path / "j.json")
    process = sleeper()
    try:
        recorded = record(process.pid, "killed-run", pushgateway.url)
        assert recorded is not None
        journal.add_load(dataclasses.replace(recorded, owner=99999))
        report = sweep(journal, None, None)
        assert process.wait(timeout=5) == -15
    finally:
        process.kill()
        process.wait()
    assert report.ok, report.errors
    assert report.cleaned == (
        f"stopped the load of run killed-run (pid {process.pid}, harness pid 99999)",
        "deleted the Pushgateway group of run killed-run",
    )
    assert pushgateway.requests == [("DELETE", "/metrics/job/locust/instance/killed-run")]
    assert journal.loads() == []


def test_a_load_that_already_ended_still_has_its_group_deleted(tmp_path: Path, pushgateway) -> None:
    journal = Journal(tmp_path / "j.json")
    journal.add_load(
        LoadProcess(pid=os.getpid(), started=1, run_id="ended", pushgateway_url=pushgateway.url, owner=1)
    )
    report = sweep(journal, None, None)
    assert report.cleaned == ("deleted the Pushgateway group of run ended",)
    assert journal.loads() == []


def test_a_load_that_cannot_be_stopped_keeps_its_entry_and_a_failed_delete_is_reported(
    tmp_path: Path, pushgateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "j.json")
    stuck = LoadProcess(pid=1, started=1, run_id="stuck", pushgateway_url=pushgateway.url, owner=1)
    journal.add_load(stuck)

    def cannot_stop(process: LoadProcess) -> bool:
        raise LoadError(f"timed out waiting for load {process.run_id} to die")

    # harness.faults.sweep is also the name of the function the package exports: fetch the module.
    monkeypatch.setattr(importlib.import_module("harness.faults.sweep"), "stop_leftover", cannot_stop)
    report = sweep(journal, None, None)
    assert report.errors == ("timed out waiting for load stuck to die",)
    assert journal.loads() == [stuck] and pushgateway.requests == []

    monkeypatch.undo()
    pushgateway.status = 500
    report = sweep(journal, None, None)  # pid 1 never has start time 1: not signalled, already gone
    assert len(report.errors) == 1 and "HTTP 500" in report.errors[0]
    assert journal.loads() == []
