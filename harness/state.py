"""Where the harness keeps what outlives a run of one stack project, and the lock that gives one run a
project at a time.

Per project, in ``state_dir(project)``:

    lock                   flock'ed for the whole of a run (and of ``clean`` while it sweeps); inside,
                           who holds it: pid, command, since when
    faults-in-force.json   the journal: faults and the load generator a run has in force (faults/journal.py)

Why a fixed per-user place and not the reports folder: a crashed run may have written its reports anywhere
(``--reports``), and ``clean`` after a crash must find its journal without being told where; reports are
also emptied by ``make clean``. XDG's state directory is the place for exactly this ("data that should
persist between restarts but is not important enough for the user's data folder": logs, history, state).
``HARNESS_STATE_DIR`` overrides it, for tests and for machines whose home is not writable.

The lock is ``fcntl.flock`` on a file beside the journal: the kernel drops it when its holder dies, even by
SIGKILL, so a crashed run never leaves a stale lock, and a fresh process never inherits it (Python opens
files non-inheritable). Per user: two users of one Docker engine do not see each other's locks.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

STATE_DIR_ENV = "HARNESS_STATE_DIR"
JOURNAL_NAME = "faults-in-force.json"
LOCK_NAME = "lock"


class StackBusy(HarnessError):
    """Another process holds the stack project's lock: a run (or clean) is using it."""


def state_dir(project: str, env: Mapping[str, str] | None = None) -> Path:
    """``$HARNESS_STATE_DIR/<project>``, else ``$XDG_STATE_HOME/harness/<project>``, else
    ``~/.local/state/harness/<project>``. Read when called, never at import."""
    env = os.environ if env is None else env
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]) / project
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "harness" / project


def journal_path(project: str) -> Path:
    return state_dir(project) / JOURNAL_NAME


def _own_command() -> str:
    try:
        argv = Path("/proc/self/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        return shlex.join(arg.decode(errors="replace") for arg in argv)
    except OSError:
        return shlex.join([sys.executable, *sys.argv])


class ProjectLock:
    """``with ProjectLock(project):`` holds the project's lock, or raises StackBusy naming its holder."""

    def __init__(self, project: str, directory: Path | None = None) -> None:
        self.project = project
        self.path = (directory or state_dir(project)) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> ProjectLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise HarnessError(f"lock {self.path} cannot be opened: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StackBusy(f"stack project {self.project} is in use by {self.holder()}") from None
        # Truncate and rewrite in place: deleting a lock file would let two processes lock two files.
        holder = {"pid": os.getpid(), "command": _own_command(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode() + b"\n", 0)
        self._fd = fd
        return self

    def holder(self) -> str:
        """Who holds the lock, as the file says: pid, command and since when (UTC)."""
        try:
            who = json.loads(self.path.read_text())
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(who["since"])))
            command = " ".join(str(who["command"]).split())  # one line, whatever the arguments hold
            return f"pid {int(who['pid'])} ({command}) since {since}"
        except (OSError, ValueError, KeyError, TypeError):
            return f"another process (it has not written {self.path} yet)"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None
