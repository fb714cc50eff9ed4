"""The locustfile quits by itself once the harness that started it is gone (run as a subprocess:
importing Locust would monkey-patch this test process with gevent)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from load_support import LOAD_DIR, REPO
from parentwatch import expected_parent, orphaned

from harness.load.process import start_time


def test_the_parent_watch_reads_the_harness_pid_and_compares_it_with_the_parent() -> None:
    assert expected_parent({"LOAD_PARENT_PID": "123"}) == 123
    assert expected_parent({}) is None and expected_parent({"LOAD_PARENT_PID": "x"}) is None
    assert not orphaned(None, parent=1)
    assert not orphaned(123, parent=123)
    assert orphaned(123, parent=1)
    assert not orphaned(os.getppid())


LAUNCHER = """
import os, subprocess, sys, time
env = dict(os.environ, LOAD_PARENT_PID=str(os.getpid()), LOAD_PROGRESS_FILE=sys.argv[2])
locust = subprocess.Popen(
    [sys.executable, "-m", "locust", "-f", sys.argv[1], "--headless", "-u", "1", "-t", "120s",
     "--host", "http://127.0.0.1:9"],
    env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print(locust.pid, flush=True)
time.sleep(600)
"""


def test_locust_quits_within_seconds_of_its_harness_being_killed(tmp_path: Path) -> None:
    progress = tmp_path / "progress.json"
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(LOAD_DIR / "locustfile.py"), str(progress)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert launcher.stdout is not None
    locust = int(launcher.stdout.readline())
    started = start_time(locust)
    try:
        deadline = time.monotonic() + 60
        while not progress.exists():  # Locust imported the locustfile and runs
            assert time.monotonic() < deadline, "Locust never reported"
            time.sleep(0.1)
        launcher.kill()
        launcher.wait()
        killed = time.monotonic()
        while start_time(locust) == started:
            assert time.monotonic() - killed < 10, "Locust went on after its harness was killed"
            time.sleep(0.1)
        print(f"Locust quit {time.monotonic() - killed:.1f}s after its harness was killed")
    finally:
        launcher.kill()
        if start_time(locust) == started:
            os.killpg(locust, 9)


def test_locust_does_not_watch_a_parent_it_does_not_have(tmp_path: Path) -> None:
    # Started through a wrapper, say: watching would stop the load at once.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_", "PUSHGATEWAY_"))}
    started = time.monotonic()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOAD_DIR / "locustfile.py"), "--headless"),
            *("-u", "1", "-t", "3s", "--host", "http://127.0.0.1:9"),
        ],
        env={**clean, "LOAD_PARENT_PID": "1"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "LOAD_PARENT_PID=1 is not this process's parent" in result.stderr
    assert "is gone: stopping the load" not in result.stderr
    assert time.monotonic() - started >= 3
