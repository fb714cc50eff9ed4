"""The per-project state folder and lock: one run (or clean) per stack project at a time, the holder
named to whoever is refused, and the lock gone with its holder, however it ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.state import STATE_DIR_ENV, ProjectLock, StackBusy, journal_path, state_dir

HOLD = """
import sys, time
from harness.state import ProjectLock
with ProjectLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_state_folder_is_the_override_else_xdg_state_else_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    assert state_dir("p", {STATE_DIR_ENV: "/t/s", "XDG_STATE_HOME": "/x"}) == Path("/t/s/p")
    assert state_dir("p", {"XDG_STATE_HOME": "/x"}) == Path("/x/harness/p")
    # The XDG spec: a relative path is invalid and must be ignored.
    assert state_dir("p", {"XDG_STATE_HOME": "x"}) == Path("/home/u/.local/state/harness/p")
    assert state_dir("p", {}) == Path("/home/u/.local/state/harness/p")


def test_the_journal_sits_beside_the_lock(state_home: Path) -> None:
    assert journal_path("demo") == state_home / "demo" / "faults-in-force.json"
    assert ProjectLock("demo").path == state_home / "demo" / "lock"


def test_a_second_holder_is_refused_naming_pid_command_and_since(state_home: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, "demo"], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StackBusy) as refused, ProjectLock("demo"):
            pass
        message = str(refused.value)
        assert message.startswith(f"stack project demo is in use by pid {holder.pid} (")
        assert f"{sys.executable} -c " in message
        assert "\n" not in message
        assert time.strftime("since %Y-%m-%d ", time.gmtime()) in message and message.endswith(" UTC")
        # Another project is another lock.
        with ProjectLock("other"):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_released_on_exit_on_exception_and_when_its_holder_is_killed(state_home: Path) -> None:
    with ProjectLock("demo"), pytest.raises(StackBusy, match=f"pid {os.getpid()} "), ProjectLock("demo"):
        pass
    with pytest.raises(RuntimeError), ProjectLock("demo"):
        raise RuntimeError("a run that failed")
    with ProjectLock("demo"):
        pass
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "demo"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with ProjectLock("demo"):  # the kernel dropped the SIGKILLed holder's flock
        pass
