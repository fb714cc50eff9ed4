"""Processes' own CPU time from /proc, for the benchmarks that weigh what a process costs (sla_bench,
load_bench). Linux only; user + system time of the process itself, never of its waited-for children."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces or ')'): field 3 first."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def own_cpu_seconds(pid: int) -> float | None:
    """utime + stime of the process itself (fields 14 and 15 of /proc/PID/stat), not of its children."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(root: int, exclude: Iterable[int] = ()) -> list[int]:
    """Every live process below ``root`` (children, their children...), but those below or at ``exclude``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    skipped, found, todo = set(exclude), [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in skipped:
            found.append(pid)
            todo += children.get(pid, [])
    return found


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """Each process's own CPU seconds now; a process already gone is left out."""
    return {pid: cpu for pid in pids if (cpu := own_cpu_seconds(pid)) is not None}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes of ``after`` spent since ``before`` (all of it for one started since)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
