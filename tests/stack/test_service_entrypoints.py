"""`python3 -m agent|modelserver|exporter` as the image runs them: each serves /health and /metrics with
no dependency configured, logs the stack's JSON lines, stops on SIGTERM with exit 0, and refuses a bad
environment variable with one JSON line and exit 2."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx
import pytest
from _services import free_port, has_debian_runtime, run, service

pytestmark = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
SERVICE_NAMES = {"agent": "agent", "modelserver": "ollama", "exporter": "exporter"}


def _environment(module: str, tmp_path: Path) -> dict[str, str]:
    if module == "agent":
        return {"BIND_HOST": "127.0.0.1", "STATE_DIR": str(tmp_path)}
    if module == "modelserver":
        return {"OLLAMA_HOST": "127.0.0.1"}
    # no Docker engine: the exporter must still answer, degraded
    return {"HOST": "127.0.0.1", "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "module, metric",
    [
        ("agent", "agent_concurrency_limit"),
        ("modelserver", "ollama_num_parallel"),
        ("exporter", "exporter_docker_up"),
    ],
)
def test_serves_health_and_metrics_logs_json_and_stops_on_sigterm(
    module: str, metric: str, tmp_path: Path
) -> None:
    with service(module, free_port(), **_environment(module, tmp_path)) as running:
        running.wait_healthy()
        health = httpx.get(f"{running.base}/health", timeout=5).json()
        assert health["service"] == SERVICE_NAMES[module]
        metrics = httpx.get(f"{running.base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert re.search(rf"^{metric} ", metrics.text, re.MULTILINE)
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(20) == 0
        lines = _json_lines(running.output())
    assert lines, "no log lines"
    for line in lines:
        assert list(line)[:5] == ["timestamp", "level", "service", "message", "logger"]
        assert STAMP.fullmatch(str(line["timestamp"]))
        assert line["service"] == SERVICE_NAMES[module]
    assert lines[-1]["message"] == "stopped"


@pytest.mark.parametrize("module", ["agent", "modelserver", "exporter"])
def test_bad_configuration_is_one_json_line_and_exit_2(module: str) -> None:
    result = run(module, {"PORT": "http"})
    assert result.returncode == 2, result.stdout
    (line,) = _json_lines(result.stdout)
    assert STAMP.fullmatch(str(line["timestamp"]))
    assert (line["level"], line["service"]) == ("ERROR", SERVICE_NAMES[module])
    assert line["message"] == "bad configuration: PORT: expected an integer, got 'http'"
