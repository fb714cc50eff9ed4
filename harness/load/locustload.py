"""LoadDriver over Locust, run headless as a subprocess in a process group of its own.

The harness process only starts Locust, reads a one-line progress file and stops it, so it stays far
under 10% of a core while Locust does the work. Locust's own session keeps a Ctrl-C on the terminal
away from it (the harness stops it in order). Should the harness be killed, the locustfile quits within
a few seconds of noticing its parent (LOAD_PARENT_PID) gone, ``--run-time`` (duration + slack) ends it in
any case, and the register (the run's journal) lets ``harness clean`` or the next run stop it at once.

The locustfile must report through load/pushmetrics.py: it writes LOAD_PROGRESS_FILE every second as
one JSON object ``{"state", "users", "rps", "requests", "failures"}`` and pushes to PUSHGATEWAY_URL
under job="locust", instance=LOAD_RUN_ID. The driver deletes that group at stop(), after a scrape delay.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load.bounds import check_level, check_loopback, check_run_id
from harness.load.driver import LoadError, LoadProgress, LoadSummary
from harness.load.process import LoadProcess, LoadRegister, record, signal_group, unrecord
from harness.load.pushgateway import delete_group
from harness.load.workers import LocustWorkers, free_port, master_options, worker_command, worker_log
from harness.polling import wait_until

log = logging.getLogger(__name__)

LOG_NAME = "locust.log"
PROGRESS_NAME = "progress.json"


@dataclass(frozen=True, slots=True)
class LocustSettings:
    locustfile: Path
    host: str = "http://127.0.0.1:8080"
    bounds: LoadBounds = field(default_factory=LoadBounds)
    pushgateway_url: str = ""
    """Empty: nothing pushed (the progress file still works)."""
    workdir: Path = Path("reports/load")
    """Each run writes <workdir>/<run id>/locust.log and progress.json."""
    run_time_slack: float = 30.0
    """Locust stops by itself this long after the duration, should stop() never come."""
    request_timeout: float = 30.0
    start_timeout: float = 30.0
    """For Locust to import and report, on top of the users' ramp-up time."""
    stop_grace: float = 10.0
    """Between SIGTERM and SIGKILL of the process group."""
    scrape_delay: float = 2.0
    """After the final push, before deleting the group: Prometheus scrapes it at least once more."""
    command: tuple[str, ...] = field(default=(sys.executable, "-m", "locust"))
    requests_json: str = ""
    """For the generic locustfile: the requests slas.yaml lists (LOAD_REQUESTS); empty for any other."""
    allow_remote_host: bool = False
    """--allow-remote-engine: ``host`` (slas.yaml's gateway) may be other than loopback."""


def build_command(
    settings: LocustSettings, level: LoadLevel, duration: float, master_port: int | None = None
) -> list[str]:
    """The single process's command; with ``master_port``, the master's of ``level.workers`` workers."""
    run_time = math.ceil(duration + settings.run_time_slack)
    distributed = master_options(level.workers, master_port, settings.start_timeout) if master_port else []
    return [
        *settings.command,
        "-f",
        str(settings.locustfile),
        "--headless",
        "--only-summary",
        "--users",
        str(level.users),
        "--spawn-rate",
        f"{level.spawn_rate:g}",
        "--run-time",
        f"{run_time}s",
        "--host",
        settings.host,
        "--exit-code-on-error",
        "0",  # failed requests are measurements, not a crash of the load
        *distributed,
    ]


def build_env(
    settings: LocustSettings,
    level: LoadLevel,
    run_id: str,
    progress: Path,
    base: dict[str, str],
    parent: int,
) -> dict[str, str]:
    env = {key: value for key, value in base.items() if not key.startswith(("LOCUST_", "LOAD_"))}
    env.update(
        LOAD_PARENT_PID=str(parent),
        LOAD_RATE=f"{level.rate:g}",
        LOAD_USERS=str(level.users),  # workers pace each user to rate / users of the whole load too
        LOAD_TIMEOUT=f"{settings.request_timeout:g}",
        LOAD_RUN_ID=run_id,
        LOAD_PROGRESS_FILE=str(progress),
        PUSHGATEWAY_URL=settings.pushgateway_url,
    )
    if settings.requests_json:
        env["LOAD_REQUESTS"] = settings.requests_json
    if settings.allow_remote_host:  # the locustfile's own loopback check lets exactly this host through
        env["LOAD_REMOTE_HOST"] = settings.host
    return env


def read_progress(path: Path) -> LoadProgress | None:
    """The last figures the locustfile wrote, or None before its first write."""
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        return LoadProgress(
            rps=float(fields["rps"]),
            failures=int(fields["failures"]),
            users=int(fields["users"]),
            requests=int(fields["requests"]),
        )
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LoadError(f"could not read the load's progress file: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"{path}: not a progress file of load/pushmetrics.py ({exc})") from exc


class LocustLoad:
    """One Locust run at a time; create a new one or call start() again after stop(). ``register``, if
    given, holds a record of the Locust process from its start until it is stopped."""

    def __init__(self, settings: LocustSettings, register: LoadRegister | None = None) -> None:
        self.settings = settings
        self.register = register
        self._recorded: LoadProcess | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._run_dir: Path | None = None
        self._run_id = ""
        self._started = 0.0
        self._summary: LoadSummary | None = None
        self._workers = LocustWorkers(register)

    @property
    def pid(self) -> int | None:
        """Locust's pid, which is also its process group's id."""
        return self._proc.pid if self._proc else None

    @property
    def log_path(self) -> Path | None:
        return self._run_dir / LOG_NAME if self._run_dir else None

    def start(self, level: LoadLevel, duration: float, run_id: str) -> None:
        if self._proc is not None and self._summary is None:
            raise LoadError(f"load {self._run_id} is still running: stop it first")
        # Forget the previous run, so a start refused below leaves nothing for stop() to report.
        self._proc, self._run_dir, self._summary = None, None, None
        self._workers = LocustWorkers(self.register)
        check_level(level, duration, self.settings.bounds)
        check_run_id(run_id)
        check_loopback(self.settings.host, self.settings.allow_remote_host)
        run_dir = self.settings.workdir / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        progress = run_dir / PROGRESS_NAME
        progress.unlink(missing_ok=True)
        self._run_dir, self._run_id = run_dir, run_id
        self._log = (run_dir / LOG_NAME).open("wb")
        env = build_env(self.settings, level, run_id, progress.resolve(), dict(os.environ), os.getpid())
        master_port = free_port() if level.workers > 1 else None
        try:
            self._proc = subprocess.Popen(
                build_command(self.settings, level, duration, master_port),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            self._log.close()
            raise LoadError(f"could not start Locust ({self.settings.command[0]}): {exc}") from exc
        self._started = time.monotonic()
        try:
            self._record(run_id)
            if master_port is not None:
                command = worker_command(
                    self.settings.command, self.settings.locustfile, self.settings.host, master_port
                )
                self._workers.start(level.workers, command, env, run_dir, run_id)
            wait_until(
                lambda: self._all_users_running(level.users),
                timeout=self.settings.start_timeout + level.users / level.spawn_rate,
                interval=0.2,
                what=f"{level.users} Locust users to run (log: {self.log_path})",
                error=LoadError,
            )
        except BaseException:
            self.stop()
            raise

    def _record(self, run_id: str) -> None:
        assert self._proc is not None
        if self.register is not None:
            self._recorded = record(self._proc.pid, run_id, self.settings.pushgateway_url)
            if self._recorded is not None:
                self.register.add_load(self._recorded)

    def _unrecord(self) -> list[str]:
        recorded, self._recorded = self._recorded, None
        return unrecord(self.register, recorded)

    def _all_users_running(self, users: int) -> bool:
        current = self.progress()
        if current.lost_workers and self._run_dir is not None:
            # Before the first window: a start that failed, not a loss for the judge.
            loss = self._workers.check()[0]
            log = last_log_line(worker_log(self._run_dir, loss.worker))
            raise LoadError(f"{loss.describe()} while the load started: {log}")
        return current.users >= users

    def progress(self) -> LoadProgress:
        proc, run_dir = self._proc, self._run_dir
        if proc is None or run_dir is None:
            raise LoadError("no load was started")
        code = proc.poll()
        if code is not None and self._summary is None and code != 0:
            raise LoadError(f"Locust exited with code {code}: {self._last_log_line()}")
        current = read_progress(run_dir / PROGRESS_NAME) or LoadProgress(0.0, 0, 0, 0)
        return dataclasses.replace(current, lost_workers=len(self._workers.check()))

    def stop(self) -> LoadSummary:
        if self._summary is not None:
            return self._summary
        proc, run_dir = self._proc, self._run_dir
        if proc is None or run_dir is None:
            self._summary = LoadSummary(0, 0, 0.0, None)
            return self._summary
        duration = time.monotonic() - self._started
        lost = self._workers.last_check()
        warnings = self._end_process(proc)
        warnings += self._workers.stop(self.settings.stop_grace)
        try:
            if self.settings.pushgateway_url:
                time.sleep(self.settings.scrape_delay)  # Prometheus scrapes the last push once more
        finally:  # also when interrupted here: a group left behind would be read as the next run's load
            warnings += self._delete_group()
            warnings += self._unrecord()
        try:
            final = read_progress(run_dir / PROGRESS_NAME) or LoadProgress(0.0, 0, 0, 0)
        except LoadError as exc:
            warnings.append(str(exc))
            final = LoadProgress(0.0, 0, 0, 0)
        for warning in warnings:
            log.warning("load %s: %s", self._run_id, warning)
        self._summary = LoadSummary(
            final.requests, final.failures, duration, proc.returncode, tuple(warnings), lost
        )
        return self._summary

    def _delete_group(self) -> list[str]:
        if not self.settings.pushgateway_url:
            return []
        try:
            delete_group(self.settings.pushgateway_url, self._run_id)
        except LoadError as exc:
            return [str(exc)]
        return []

    def _end_process(self, proc: subprocess.Popen[bytes]) -> list[str]:
        """SIGTERM to the group (Locust stops its users and pushes a last time), SIGKILL after the grace."""
        warnings: list[str] = []
        if proc.poll() is None:
            signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.settings.stop_grace)
            except subprocess.TimeoutExpired:
                # The leader is alive (not reaped), so its pid is still this group's: safe to kill.
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
                warnings.append(f"Locust ignored SIGTERM for {self.settings.stop_grace:g}s: killed")
        if self._log is not None:
            self._log.close()
        return warnings

    def _last_log_line(self) -> str:
        return last_log_line(self.log_path)


def last_log_line(path: Path | None) -> str:
    if path is None or not path.exists():
        return "(no log)"
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - 4096, 0))
        lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines()]
    last = [line for line in lines if line]
    return f"{last[-1]} (log: {path})" if last else f"(empty log: {path})"
