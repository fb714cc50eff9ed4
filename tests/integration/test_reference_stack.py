"""Issue 2, "Must show": the reference stack on the real engine, from nothing to nothing."""

from __future__ import annotations

import itertools
import os
import time
from datetime import datetime

import httpx
import pytest

from harness.analyzers.base import AnalysisContext
from harness.analyzers.phased_deploy import PhasedDeployParams
from harness.analyzers.phased_deploy import run as phased_deploy
from harness.bringup import PhaseTiming
from harness.metrics.fake import FakeMetricsSource
from harness.stack import Stack
from harness.windows import PhaseMarks, ScenarioTimeline

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PROMETHEUS = "http://127.0.0.1:10400"
GATEWAY = "http://127.0.0.1:8080"
RULE_7_1_METRICS = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "agent_tasks_completed_total",
    "agent_tasks_failed_total",
)
AGENTS = ("agent-orchestrator", "agent-summarizer", "agent-indexer", "agent-search-1", "agent-search-2")


def _unix(docker_time: str) -> float:
    # Docker prints nanoseconds; Python parses microseconds.
    head, _, rest = docker_time.partition(".")
    fraction = rest.rstrip("Z")[:6]
    return datetime.fromisoformat(f"{head}.{fraction}+00:00").timestamp()


def _prometheus(query: str) -> list[dict]:
    response = httpx.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def test_every_service_healthy_in_phase_order(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    stack, timings = reference_stack
    assert [t.phase for t in timings] == [1, 2, 3]
    for service in stack.project.services:
        assert stack.health(service.name) == "healthy", service.name
    # Rule 2.1: no container of a phase starts before every service of the previous phase is healthy.
    for earlier, later in itertools.pairwise(timings):
        for name in later.services:
            started = _unix(stack.container(name).attrs["State"]["StartedAt"])
            assert started >= earlier.healthy_at - 0.5, (
                f"{name} started before phase {earlier.phase} was healthy"
            )


def test_the_recorded_bring_up_passes_phased_deploy_with_the_reference_caps(
    reference_stack: tuple[Stack, list[PhaseTiming]],
) -> None:
    """The proof that the phased-deploy objective (docs/rules-runtime-13.md) may go into slas.yaml."""
    _, timings = reference_stack
    for timing in timings:  # every container recorded, as the engine started it
        assert {c.service for c in timing.containers} == set(timing.services), timing.phase
    params = PhasedDeployParams(phase_1_max=10, phase_2_max=2, phase_3_max=8)
    end = time.time()
    timeline = ScenarioTimeline.from_marks(PhaseMarks(end - 60, end))
    context = AnalysisContext(FakeMetricsSource(), timeline.whole, timeline, 1.0, bring_up=tuple(timings))
    finding = phased_deploy(context, params)
    assert finding.status == "pass", finding.reason


def test_gateway_health_answers_under_one_second(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    for _ in range(5):
        started = time.monotonic()
        response = httpx.get(f"{GATEWAY}/health", timeout=5)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed < 1.0


def test_gateway_routes_to_each_agent(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    for route in ("orchestrator", "summarizer", "indexer"):
        response = httpx.post(f"{GATEWAY}/api/{route}/task", json={"input": "hello"}, timeout=10)
        assert response.status_code == 200, (route, response.text)
        assert response.headers.get("X-Trace-ID")
        # Healthy dependencies, so nothing may be served from a fallback: every proxy hop works.
        assert "X-Fallback" not in response.headers, (route, response.text)


def _wait_for_scrapes(query: str, expected: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        result = _prometheus(query)
        if len(result) >= expected or time.monotonic() > deadline:
            return result
        time.sleep(1)


@pytest.mark.parametrize("metric", RULE_7_1_METRICS)
def test_every_agent_exports_rule_7_1_metric(
    reference_stack: tuple[Stack, list[PhaseTiming]], metric: str
) -> None:
    result = _wait_for_scrapes(f'group by (service) ({metric}{{job="agents"}})', len(AGENTS))
    assert sorted(r["metric"]["service"] for r in result) == sorted(AGENTS)


def test_prometheus_reports_every_target_up(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    deadline = time.monotonic() + 30
    while True:
        targets = httpx.get(f"{PROMETHEUS}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        down = [(t["labels"]["job"], t["lastError"]) for t in targets if t["health"] != "up"]
        if not down or time.monotonic() > deadline:
            break
        time.sleep(1)
    jobs = sorted(t["labels"]["job"] for t in targets)
    assert jobs == sorted(
        ["agents"] * len(AGENTS)
        + ["containers", "faultproxy", "gateway", "ollama", "prometheus", "pushgateway", "rabbitmq"]
    )
    assert down == []


def test_memory_limits_fit_in_six_gib(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    stack, _ = reference_stack
    limits = [c.attrs["HostConfig"]["Memory"] for c in stack.containers()]
    assert all(limit > 0 for limit in limits), "every container has a memory limit (rule 1.1)"
    assert sum(limits) <= 6 * 1024**3


def test_idle_stack_uses_under_ten_percent_of_the_machine(
    reference_stack: tuple[Stack, list[PhaseTiming]],
) -> None:
    stack, _ = reference_stack
    containers = stack.containers()

    def cpu_seconds() -> float:
        total = 0
        for container in containers:
            stats = container.stats(stream=False, one_shot=True)
            total += stats["cpu_stats"]["cpu_usage"]["total_usage"]
        return total / 1e9

    window = 20.0
    before, started = cpu_seconds(), time.monotonic()
    time.sleep(window)
    used = cpu_seconds() - before
    share = used / ((time.monotonic() - started) * (os.cpu_count() or 1))
    assert share < 0.10, f"idle stack used {share:.1%} of the machine"


def test_stack_down_leaves_nothing_behind(reference_stack: tuple[Stack, list[PhaseTiming]]) -> None:
    stack, _ = reference_stack
    assert not stack.down(), "containers, networks or volumes left behind"
