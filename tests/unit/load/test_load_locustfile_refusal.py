"""The locustfile itself refuses what it must (run as a subprocess: importing Locust would monkey-patch
this test process with gevent)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from load_support import LOAD_DIR, REPO


def run_locustfile(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_", "PUSHGATEWAY_"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOAD_DIR / "locustfile.py"),
            "--headless",
            "-t",
            "1s",
            *args,
        ],
        env={**clean, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--host", "http://10.0.0.1:8080"), {}),
        ((), {"LOAD_HOST": "http://example.com:8080"}),
        ((), {"LOCUST_HOST": "http://[::2]:8080"}),
    ],
)
def test_a_host_that_is_not_loopback_is_refused_in_one_line_with_exit_2(args, env):
    result = run_locustfile(*args, **env)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("locustfile: refusing host ") and "is not loopback" in last
    assert "Traceback" not in result.stderr


def test_a_bad_load_users_is_refused():
    result = run_locustfile("--host", "http://127.0.0.1:9", LOAD_USERS="many")
    assert result.returncode == 2
    assert "LOAD_USERS='many' is not a positive integer" in result.stderr


def test_a_rate_that_is_not_positive_is_refused():
    result = run_locustfile("--host", "http://127.0.0.1:9", LOAD_RATE="0")
    assert result.returncode == 2
    assert "must be positive" in result.stderr.strip().splitlines()[-1]
