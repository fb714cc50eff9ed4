"""The Locust workers of a distributed load (``load.workers`` > 1): started, watched and stopped here.

Workers are processes on this host, not containers on the stack's network: the load must come from
loopback (the only target allowed without --allow-remote-engine), and a container would count against
the stack's CPU budget and be one more thing the faults and the sweep could touch. Each worker runs in a
session of its own like the master (a Ctrl-C reaches the harness first) and is recorded in the journal
by itself, so ``harness clean`` and the next run's sweep stop every one of them even when the master is
already gone; each also watches the harness as its parent (load/parentwatch.py).

A worker that ends before stop() is a loss, never ignored: it is reported with the last time it was
seen running, and the judge turns the client-side objectives of every window from then on into
``error`` (harness/load/health.py).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.load.driver import LoadError, LostWorker
from harness.load.process import LoadProcess, LoadRegister, record, signal_group, unrecord

MASTER_HOST = "127.0.0.1"


def free_port(host: str = MASTER_HOST) -> int:
    """A port the master can bind on loopback (Locust's default 5557 may be another run's)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def master_options(workers: int, port: int, start_timeout: float) -> list[str]:
    """What turns the locust command into a master that waits for its workers on loopback."""
    return [
        "--master",
        "--master-bind-host",
        MASTER_HOST,
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(workers),
        "--expect-workers-max-wait",
        f"{start_timeout:g}",
    ]


def worker_log(run_dir: Path, index: int) -> Path:
    return run_dir / f"locust-worker-{index}.log"


def worker_command(command: Sequence[str], locustfile: Path, host: str, port: int) -> list[str]:
    return [
        *command,
        "-f",
        str(locustfile),
        "--worker",
        "--master-host",
        MASTER_HOST,
        "--master-port",
        str(port),
        "--host",
        host,
    ]


@dataclass(slots=True)
class _Worker:
    index: int
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    recorded: LoadProcess | None
    seen_running: float
    lost: LostWorker | None = None


class LocustWorkers:
    """The workers of one load. ``check()`` notices deaths; ``stop()`` ends the rest, never raising."""

    def __init__(self, register: LoadRegister | None) -> None:
        self.register = register
        self._workers: list[_Worker] = []
        self._stopping = False

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.proc.pid for w in self._workers)

    def start(self, count: int, command: list[str], env: dict[str, str], run_dir: Path, run_id: str) -> None:
        """Start ``count`` workers (LoadError if one cannot be started; those started are left to stop())."""
        for index in range(1, count + 1):
            log = worker_log(run_dir, index).open("wb")
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                log.close()
                raise LoadError(f"could not start Locust worker {index} ({command[0]}): {exc}") from exc
            # Workers push nowhere: only the master's record names the Pushgateway group to delete.
            recorded = record(proc.pid, run_id, "")
            self._workers.append(_Worker(index, proc, log, recorded, time.time()))
            if recorded is not None and self.register is not None:
                self.register.add_load(recorded)

    def check(self) -> tuple[LostWorker, ...]:
        """Every worker lost so far; a worker found ended now is lost since it was last seen running."""
        if not self._stopping:
            now = time.time()
            for worker in self._workers:
                if worker.lost is None:
                    code = worker.proc.poll()
                    if code is None:
                        worker.seen_running = now
                    else:
                        worker.lost = LostWorker(worker.index, worker.proc.pid, code, worker.seen_running)
        return tuple(w.lost for w in self._workers if w.lost is not None)

    def last_check(self) -> tuple[LostWorker, ...]:
        """check() once more before the master is stopped: from then on workers end because they are told to."""
        lost = self.check()
        self._stopping = True
        return lost

    def stop(self, grace: float) -> list[str]:
        """After the master (which tells them to quit and waits for their last report): wait for each
        worker, SIGTERM its group, SIGKILL after ``grace``; then forget their records."""
        self._stopping = True
        warnings: list[str] = []
        deadline = time.monotonic() + grace
        for worker in self._workers:
            if not _waited(worker.proc, deadline - time.monotonic()):
                signal_group(worker.proc.pid, signal.SIGTERM)
                if not _waited(worker.proc, grace):
                    signal_group(worker.proc.pid, signal.SIGKILL)  # not reaped yet: still its group
                    worker.proc.wait()
                    warnings.append(f"Locust worker {worker.index} ignored SIGTERM for {grace:g}s: killed")
            worker.log.close()
            warnings += self._unrecord(worker)
        return warnings

    def _unrecord(self, worker: _Worker) -> list[str]:
        recorded, worker.recorded = worker.recorded, None
        return unrecord(self.register, recorded)


def _waited(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        return False
    return True
