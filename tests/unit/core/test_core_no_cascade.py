"""Rule 10.3 analyzer: independent services keep their SLAs, dependents degrade only as allowed."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from core_synth import context, put_histogram, timeline

from harness.analyzers.no_cascade import NoCascadeParams, dependents_of, run
from harness.metrics.fake import FakeMetricsSource

GRAPH = MappingProxyType(
    {
        "gateway": frozenset({"agent-orchestrator"}),
        "agent-orchestrator": frozenset({"redis", "postgres", "agent-summarizer", "agent-indexer"}),
        "agent-summarizer": frozenset({"redis", "ollama"}),
        "agent-indexer": frozenset({"postgres", "rabbitmq"}),
    }
)
SERVICES = ("gateway", "agent-orchestrator", "agent-summarizer", "agent-indexer")
SPAN = "60000ms"
DEFAULTS = NoCascadeParams()


def stack(
    errors=None,
    api=None,
    health=None,
    fallbacks=None,
    faulted="redis",
    params=DEFAULTS,
    graph=GRAPH,
    totals=None,
    steady=500.0,
):
    """Play Prometheus for a healthy stack during a fault, with overrides per service: 1000 requests in
    the 60 s fault window, ``steady`` in the 30 s steady window."""
    errors, api, health, fallbacks = errors or {}, api or {}, health or {}, fallbacks or {}
    totals = totals or {}
    tl = timeline()
    window = tl.fault
    fake = FakeMetricsSource()
    for service in SERVICES:
        labels = {"job": service}
        fake.put(
            f"sum by (job) (increase(http_requests_total[{SPAN}]))",
            labels,
            [(window.end, totals.get(service, 1000.0))],
        )
        fake.put("sum by (job) (increase(http_requests_total[30000ms]))", labels, [(tl.steady.end, steady)])
        fake.put(
            f'sum by (job) (increase(http_requests_total{{status=~"5.."}}[{SPAN}]))',
            labels,
            [(window.end, errors.get(service, 0.0))],
        )
        fake.put(
            f'sum by (job) (increase(fallback_responses_total{{dependency="{faulted}"}}[{SPAN}]))',
            labels,
            [(window.end, fallbacks.get(service, 50.0))],
        )
    put_histogram(
        fake,
        window,
        {(("job", s),): api.get(s, [0.05] * 100) for s in SERVICES},
        params.api_percentile,
        matchers=params.api_selector,
    )
    put_histogram(
        fake,
        window,
        {(("job", s),): health.get(s, [0.003] * 100) for s in SERVICES},
        params.health_percentile,
        matchers=params.health_selector,
    )
    return run(context(fake, "fault", tl, faulted=faulted, graph=graph), params)


def test_dependents_are_transitive_and_cycles_terminate():
    assert dependents_of(GRAPH, "redis") == {"agent-orchestrator", "agent-summarizer", "gateway"}
    assert dependents_of(GRAPH, "rabbitmq") == {"agent-indexer", "agent-orchestrator", "gateway"}
    cyclic = {"a": frozenset({"b"}), "b": frozenset({"a", "c"})}
    assert dependents_of(cyclic, "c") == {"a", "b"}


def test_healthy_stack_passes():
    finding = stack()
    assert finding.status == "pass", finding.reason
    names = [c.name for c in finding.evidence.checks]
    assert "agent-indexer (independent) errors" in names
    assert "agent-summarizer (dependent) api" in names
    assert "gateway (dependent) health" in names
    assert "agent-indexer (independent) throughput" in names


def test_errors_in_an_independent_service_are_a_cascade():
    finding = stack(errors={"agent-indexer": 200.0})
    assert finding.status == "fail"
    assert "agent-indexer (independent) errors: 20.00% 5xx" in finding.reason
    assert "cascaded" in finding.reason


def test_a_dependent_answering_5xx_instead_of_fallbacks_fails():
    finding = stack(errors={"agent-summarizer": 300.0})
    assert finding.status == "fail"
    assert "5xx instead of fallbacks" in finding.reason


def test_a_hanging_dependent_fails():
    finding = stack(api={"agent-summarizer": [0.05] * 90 + [9.0] * 10})
    assert finding.status == "fail"
    assert "agent-summarizer (dependent) api" in finding.reason


def test_a_dependent_whose_requests_hang_fails_on_throughput():
    # hanging requests complete never: no latency observations, no 5xx, only the throughput shows it
    finding = stack(totals={"agent-summarizer": 0.0}, api={"agent-summarizer": []})
    assert finding.status == "fail"
    assert "agent-summarizer (dependent) throughput: 0/s completed against 16.7/s" in finding.reason
    assert "requests hang" in finding.reason


def test_throughput_halving_is_tolerated_and_below_the_ratio_fails():
    assert stack(totals={"agent-indexer": 600.0}).status == "pass"
    finding = stack(totals={"agent-indexer": 400.0})
    assert finding.status == "fail"
    assert "agent-indexer (independent) throughput" in finding.reason


def test_throughput_check_can_be_disabled_and_needs_a_steady_baseline():
    params = NoCascadeParams(min_throughput_ratio=0)
    assert stack(totals={"agent-indexer": 400.0}, params=params).status == "pass"
    assert stack(totals={"agent-indexer": 400.0}, steady=0.0).status == "pass"


def test_slow_health_anywhere_fails():
    finding = stack(health={"agent-indexer": [0.003] * 99 + [1.2]})
    assert finding.status == "fail"
    assert "agent-indexer (independent) health" in finding.reason


def test_independent_latency_can_be_held_tighter():
    params = NoCascadeParams(independent_api_threshold=0.5)
    finding = stack(api={"agent-indexer": [0.9] * 100}, params=params)
    assert finding.status == "fail"
    assert "agent-indexer (independent) api" in finding.reason
    assert stack(api={"agent-summarizer": [0.9] * 100}, params=params).status == "pass"


def test_required_fallbacks_missing_fails():
    params = NoCascadeParams(require_fallbacks=True)
    finding = stack(fallbacks={"agent-summarizer": 0.0}, params=params)
    assert finding.status == "fail"
    assert "0 fallbacks served for 'redis'" in finding.reason


def test_faulted_service_missing_from_the_graph_is_an_error():
    finding = stack(faulted="memcached")
    assert finding.status == "error"
    assert "not in the dependency graph" in finding.reason


def test_no_graph_is_an_error():
    finding = stack(graph=MappingProxyType({}))
    assert finding.status == "error"


def test_graph_parameter_overrides_the_runner_graph():
    params = NoCascadeParams(graph=GRAPH)
    assert stack(graph=MappingProxyType({}), params=params).status == "pass"


def test_no_data_is_an_error():
    tl = timeline()
    finding = run(context(FakeMetricsSource(), "fault", tl, faulted="redis", graph=GRAPH), NoCascadeParams())
    assert finding.status == "error"
    assert "no service of the graph" in finding.reason


def test_params_validate():
    with pytest.raises(ValueError, match="independent_max_error_rate"):
        NoCascadeParams(independent_max_error_rate=2)


def test_the_same_query_is_read_once():
    from harness.analyzers.base import Recorder

    fake = FakeMetricsSource()
    fake.put("up", {"job": "a"}, [(10.0, 1.0)])
    recorder = Recorder(fake)
    assert recorder.instant("up", 10.0) == recorder.instant("up", 10.0)
    assert fake.queries == ["up"]
    assert recorder.queries == ["up"] and len(recorder.samples) == 1
