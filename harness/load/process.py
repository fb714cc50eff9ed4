"""The load generator as a process a crashed run can leave behind: how it is recorded, found and stopped.

Locust runs in a session of its own (so a Ctrl-C reaches the harness first), which also means it outlives
a SIGKILLed harness. The driver records it (``LoadProcess``) in the journal beside the faults; ``clean``
and the next run's start-up sweep stop it with ``stop_leftover``. A pid alone is not an identity (the
kernel reuses pids), so the record also carries the process's start time from /proc, and nothing is
signalled unless both still match.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.errors import HarnessError
from harness.load.driver import LoadError
from harness.polling import wait_until


@dataclass(frozen=True, slots=True)
class LoadProcess:
    pid: int
    """Also its process group's id (the driver starts it in a session of its own)."""
    started: int
    """Its start time, in clock ticks after boot (/proc/<pid>/stat, field 22)."""
    run_id: str
    """The load's run id: its Pushgateway group is job="locust", instance=<run_id>."""
    pushgateway_url: str
    """Empty when the load pushes nowhere."""
    owner: int
    """The harness process that started it."""


class LoadRegister(Protocol):
    """Where the driver records the load while it runs (harness.faults.Journal)."""

    def add_load(self, process: LoadProcess) -> None: ...

    def remove_load(self, process: LoadProcess) -> None: ...


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks after boot; None once it is gone (or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else int(ticks)


def is_running(process: LoadProcess) -> bool:
    return start_time(process.pid) == process.started


def stop_leftover(process: LoadProcess, grace: float = 10.0) -> bool:
    """Stop the recorded load (SIGTERM to its group, SIGKILL after ``grace``); True if it was still
    running. A pid now used by another process (a different start time) is never signalled."""
    if not is_running(process):
        return False
    signal_group(process.pid, signal.SIGTERM)
    try:
        wait_until(
            lambda: not is_running(process), timeout=grace, interval=0.1, what="load to stop", error=LoadError
        )
    except LoadError:
        if is_running(process):  # checked again: the same process, so the group is still its own
            signal_group(process.pid, signal.SIGKILL)
            wait_until(
                lambda: not is_running(process),
                timeout=grace,
                interval=0.1,
                what=f"load {process.run_id} (pid {process.pid}) to die",
                error=LoadError,
            )
    return True


def record(pid: int, run_id: str, pushgateway_url: str) -> LoadProcess | None:
    """The record of a process this harness just started; None if it already ended."""
    started = start_time(pid)
    if started is None:
        return None
    return LoadProcess(pid, started, run_id, pushgateway_url, owner=os.getpid())


def unrecord(register: LoadRegister | None, recorded: LoadProcess | None) -> list[str]:
    """Take a stopped process out of the register; a register that cannot be written is a warning (the
    process is gone, so at worst the next sweep finds nothing to stop), not an error."""
    if recorded is None or register is None:
        return []
    try:
        register.remove_load(recorded)
    except HarnessError as exc:
        return [str(exc)]
    return []


def signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, signum)
