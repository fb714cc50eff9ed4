"""The agent's lifecycle as the graceful_shutdown and hibernation analyzers read it, run as the image runs
it: a SIGTERM saves the state, the next start restores it and exports when it was saved; the mutants'
knobs (STATE_RESTORE=false, SHUTDOWN_DELAY_S, HIBERNATE_RELEASE=false) break exactly that."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from _services import free_port, has_debian_runtime, service

pytestmark = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)


def metric(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"no {name}"
    return float(found.group(1))


def start_and_stop(tmp_path: Path, **env: str) -> tuple[float, float, float]:
    """Start the agent, SIGTERM it; return (restored, restored state's save time, the stop's time)."""
    environment = {"BIND_HOST": "127.0.0.1", "STATE_DIR": str(tmp_path), **env}
    with service("agent", free_port(), **environment) as running:
        running.wait_healthy()
        restored = metric(running.base, "agent_state_restored")
        saved_at = metric(running.base, "agent_state_restored_saved_timestamp_seconds")
        stopped = time.time()
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(20) == 0
    return restored, saved_at, stopped


def test_a_graceful_stop_saves_and_the_next_start_restores_and_says_when(tmp_path: Path) -> None:
    assert start_and_stop(tmp_path)[:2] == (0.0, 0.0)  # nothing to restore yet
    _, _, stopped = start_and_stop(tmp_path)
    restored, saved_at, _ = start_and_stop(tmp_path)
    assert restored == 1.0 and saved_at >= stopped - 1


def test_state_restore_false_starts_empty(tmp_path: Path) -> None:
    start_and_stop(tmp_path)
    assert start_and_stop(tmp_path, STATE_RESTORE="false")[:2] == (0.0, 0.0)


def test_a_shutdown_delay_keeps_it_busy_past_a_short_grace(tmp_path: Path) -> None:
    environment = {"BIND_HOST": "127.0.0.1", "STATE_DIR": str(tmp_path), "SHUTDOWN_DELAY_S": "30"}
    with service("agent", free_port(), **environment) as running:
        running.wait_healthy()
        running.proc.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert running.proc.poll() is None, "still shutting down: a 1 s grace would end in SIGKILL"
        running.proc.kill()
        running.proc.wait(10)


@pytest.mark.parametrize(("release", "kept"), [("true", False), ("false", True)])
def test_hibernation_releases_the_model_pool_unless_told_not_to(
    tmp_path: Path, release: str, kept: bool
) -> None:
    environment = {
        "BIND_HOST": "127.0.0.1",
        "STATE_DIR": str(tmp_path),
        "IDLE_TIMEOUT_S": "1",
        "HIBERNATE_RELEASE": release,
    }
    with service("agent", free_port(), **environment) as running:
        running.wait_healthy()
        answer = httpx.post(f"{running.base}/api/task", json={"input": "x", "model": "m1"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert metric(running.base, "agent_model_pool_bytes") > 0
        deadline = time.monotonic() + 10
        while metric(running.base, "agent_hibernating") != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert metric(running.base, "agent_hibernating") == 1
        assert (metric(running.base, "agent_model_pool_bytes") > 0) is kept


def test_a_health_delay_slows_health_and_its_histogram(tmp_path: Path) -> None:
    """HEALTH_DELAY_MS (mutant slow-health) is seen where health-latency reads it: the server's histogram."""
    environment = {"BIND_HOST": "127.0.0.1", "STATE_DIR": str(tmp_path), "HEALTH_DELAY_MS": "400"}
    with service("agent", free_port(), **environment) as running:
        running.wait_healthy()  # polls with a 1 s timeout: 400 ms still answers
        started = time.monotonic()
        assert httpx.get(f"{running.base}/health", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.4
        text = httpx.get(f"{running.base}/metrics", timeout=5).text
        quick = re.search(
            r'^http_request_duration_seconds_bucket\{le="0\.25",method="GET",path="/health"\} (\S+)$',
            text,
            re.M,
        )
        total = re.search(
            r'^http_request_duration_seconds_count\{method="GET",path="/health"\} (\S+)$', text, re.M
        )
        assert quick and total, "no /health histogram"
        assert float(quick.group(1)) == 0 and float(total.group(1)) >= 2
