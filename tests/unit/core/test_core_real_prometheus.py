"""The analyzers' PromQL against a real Prometheus (2.42, in a container), over synthetic data backfilled
with ``promtool tsdb create-blocks-from openmetrics``: every query must parse and mean what the fake
pretends, and PromQL's histogram_quantile must agree with the Python one (else the verdict is error).

Needs Docker and an image with ``prometheus`` and ``promtool`` (CORE_PROMETHEUS_IMAGE, default the
reference stack's ``refstack/prometheus:local``); skipped without them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from core_synth import (
    BreakerAgent,
    RawSeries,
    breaker_raw,
    histogram_raw,
    openmetrics,
    timeline,
)

from harness.analyzers.base import AnalysisContext
from harness.analyzers.circuit_breaker import CircuitBreakerParams
from harness.analyzers.circuit_breaker import run as breaker
from harness.analyzers.no_cascade import NoCascadeParams
from harness.analyzers.no_cascade import run as no_cascade
from harness.analyzers.promql import PromqlParams
from harness.analyzers.promql import run as promql
from harness.analyzers.required_metrics import RULE_7_1, RequiredMetricsParams
from harness.analyzers.required_metrics import run as required_metrics
from harness.analyzers.response_time import ResponseTimeParams
from harness.analyzers.response_time import run as response_time
from harness.metrics.prometheus import PrometheusSource

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGE = os.environ.get("CORE_PROMETHEUS_IMAGE", "refstack/prometheus:local")
TL = timeline(start=1_700_000_000.0)
SECONDS = [TL.whole.start + i for i in range(int(TL.whole.duration) + 1)]
GRAPH = {"agent-a": frozenset({"redis"}), "agent-b": frozenset({"postgres"})}


def _docker(*args: str, timeout: float = 120) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, timeout=timeout
    ).stdout


def _dataset() -> list[RawSeries]:
    fault = TL.fault
    assert fault is not None
    down = (fault.start, fault.end)
    series: list[RawSeries] = []
    series += breaker_raw(BreakerAgent().simulate(TL, down), {"job": "agent-a", "instance": "a:1"}, "redis")
    series += breaker_raw(
        BreakerAgent(threshold=10).simulate(TL, down), {"job": "agent-b", "instance": "b:1"}, "redis"
    )
    # /health: agent-a fast throughout, agent-b slow (1.2 s) during the fault; /api/task: both fast.
    for job, slow in (("agent-a", False), ("agent-b", True)):
        target = {"job": job, "instance": f"{job}:1"}
        health = [(t + 0.5, 1.2 if slow and fault.contains(t) else 0.02) for t in SECONDS]
        api = [(t + 0.5, 0.3) for t in SECONDS for _ in range(3)]
        series += histogram_raw(
            "http_request_duration_seconds", {**target, "path": "/health"}, health, SECONDS
        )
        series += histogram_raw(
            "http_request_duration_seconds", {**target, "path": "/api/task"}, api, SECONDS
        )
        errors = 40.0 if slow else 0.0
        series.append(
            (
                "http_requests_total",
                {**target, "path": "/api/task", "status": "200"},
                [(t, 4.0 * i) for i, t in enumerate(SECONDS)],
            )
        )
        series.append(
            (
                "http_requests_total",
                {**target, "path": "/api/task", "status": "503"},
                [(t, errors * i / len(SECONDS)) for i, t in enumerate(SECONDS)],
            )
        )
        series.append(("up", target, [(t, 1.0) for t in SECONDS]))
        for name in RULE_7_1:
            if job == "agent-b" and name == "agent_tasks_failed_total":
                continue
            if name != "http_request_duration_seconds" and name != "http_requests_total":
                series.append((name, target, [(t, 1.0) for t in SECONDS]))
    return series


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusSource]:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    try:
        _docker("image", "inspect", IMAGE, timeout=30)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pytest.skip(f"no Docker engine or no image {IMAGE}")
    work: Path = tmp_path_factory.mktemp("prometheus")
    (work / "data").mkdir()
    (work / "input.om").write_text(openmetrics(_dataset()))
    (work / "prometheus.yml").write_text("global: {scrape_interval: 1s}\n")
    script = (
        "promtool tsdb create-blocks-from openmetrics /w/input.om /w/data >/dev/null && "
        "exec prometheus --config.file=/w/prometheus.yml --storage.tsdb.path=/w/data "
        "--storage.tsdb.retention.time=100y --web.listen-address=0.0.0.0:9090"
    )
    name = f"core-prometheus-test-{uuid.uuid4().hex[:8]}"
    # root inside: pytest's temporary directories are private to the user running the tests
    _docker(
        "run",
        "-d",
        "--name",
        name,
        "--user",
        "0",
        "--label",
        "chaos-sla-harness.test=core-real-prometheus",
        "-p",
        "127.0.0.1::9090",
        "-v",
        f"{work}:/w",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        script,
    )
    try:
        port = _docker("port", name, "9090/tcp").strip().splitlines()[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus in {name} not ready in 60 s: {_docker('logs', name)[-2000:]}")
            time.sleep(0.2)
        yield PrometheusSource(url, timeout_s=10)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False)


def _context(source: PrometheusSource, window: str) -> AnalysisContext:
    chosen = TL.window(window)  # type: ignore[arg-type]
    assert chosen is not None
    return AnalysisContext(source, chosen, TL, 1.0, 4, "redis", GRAPH)


def test_circuit_breaker_on_real_prometheus(prometheus):
    finding = breaker(_context(prometheus, "whole"), CircuitBreakerParams(dependency="redis"))
    assert finding.status == "fail", finding.reason
    assert (
        finding.reason
        == "agent-b/b:1 failures at open: opened after 10 consecutive failures, expected exactly 5"
    )
    good = [c for c in finding.evidence.checks if c.name.startswith("agent-a/")]
    assert good and all(c.status == "pass" for c in good), good


def test_response_time_promql_agrees_with_python(prometheus):
    params = ResponseTimeParams(threshold=1.0, percentile="max", selector='path="/health"')
    steady = response_time(_context(prometheus, "steady"), params)
    assert steady.status == "pass", steady.reason
    fault = response_time(_context(prometheus, "fault"), params)
    assert fault.status == "fail", fault.reason
    assert "max[agent-b]" in fault.reason and "max[agent-a]" not in fault.reason
    assert fault.evidence.plot, "the trend range query answered nothing"


def test_required_metrics_on_real_prometheus(prometheus):
    finding = required_metrics(
        _context(prometheus, "steady"), RequiredMetricsParams(selector='job=~"agent-.*"')
    )
    assert finding.status == "fail", finding.reason
    assert finding.reason == "agent-b/agent-b:1: missing 1 of 6: agent_tasks_failed_total"


def test_no_cascade_on_real_prometheus(prometheus):
    finding = no_cascade(_context(prometheus, "fault"), NoCascadeParams())
    assert finding.status == "fail", finding.reason
    statuses = {c.name: c.status for c in finding.evidence.checks}
    assert statuses["agent-a (dependent) errors"] == "pass"
    assert statuses["agent-a (dependent) api"] == "pass"
    assert statuses["agent-b (independent) errors"] == "fail"
    assert statuses["agent-b (independent) health"] == "fail"


def test_promql_objective_on_real_prometheus(prometheus):
    query = (
        'sum(increase(http_requests_total{job="agent-b", status=~"5.."}[$window])) '
        '/ sum(increase(http_requests_total{job="agent-b"}[$window]))'
    )
    finding = promql(_context(prometheus, "fault"), PromqlParams(query, "<=", 0.01))
    assert finding.status == "fail", finding.reason
    assert isinstance(finding.measured, float) and 0.05 < finding.measured < 0.15
