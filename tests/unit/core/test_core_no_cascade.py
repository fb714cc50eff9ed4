"""Rule 10.3 analyzer: independent services keep their SLAs, dependents degrade only as allowed."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from core_synth import context, put_histogram, put_increases, timeline

from harness.analyzers.no_cascade import NoCascadeParams, dependents_of, places, run
from harness.metrics.fake import FakeMetricsSource

GRAPH = MappingProxyType(
    {
        "gateway": frozenset({"agent-orchestrator"}),
        "agent-orchestrator": frozenset({"redis", "postgres", "agent-summarizer", "agent-indexer"}),
        "agent-summarizer": frozenset({"redis", "ollama"}),
        "agent-indexer": frozenset({"postgres", "rabbitmq"}),
    }
)
SERVICES = ("gateway", "agent-orchestrator", "agent-summarizer", "agent-indexer", "ollama")
DEMAND = 'dependency_requests_total{outcome!="short_circuited"}'
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
    demand=None,
):
    """Play Prometheus for a healthy stack during a fault, with overrides per service: 1000 requests in
    the 60 s fault window, ``steady`` in the 30 s steady window; its callers call each service 10 times
    a second throughout (``demand``: service -> calls in the fault window, None for no demand series)."""
    errors, api, health, fallbacks = errors or {}, api or {}, health or {}, fallbacks or {}
    totals, demand = totals or {}, {s: 600.0 for s in SERVICES} | (demand or {})
    tl = timeline()
    window = tl.fault
    fake = FakeMetricsSource()
    put_increases(fake, "http_requests_total", "job", window, {s: totals.get(s, 1000.0) for s in SERVICES})
    put_increases(fake, "http_requests_total", "job", tl.steady, {s: steady for s in SERVICES})
    put_increases(
        fake, 'http_requests_total{status=~"5.."}', "job", window, {s: errors.get(s, 0.0) for s in SERVICES}
    )
    put_increases(
        fake,
        f'fallback_responses_total{{dependency="{faulted}"}}',
        "job",
        window,
        {s: fallbacks.get(s, 50.0) for s in SERVICES},
    )
    offered = {s: calls for s, calls in demand.items() if calls is not None}
    put_increases(fake, DEMAND, "dependency", window, offered)
    put_increases(fake, DEMAND, "dependency", tl.steady, {s: 300.0 for s in offered})
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


def statuses(finding):
    return {c.name: (c.status, c.detail) for c in finding.evidence.checks}


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


def test_callers_reached_by_the_fault_are_known_per_service():
    by_service = {p.service: p for p in places(GRAPH, "redis", ("ollama", "agent-indexer", "gateway"))}
    assert by_service["ollama"].affected_callers == {"agent-summarizer"}
    assert not by_service["ollama"].dependent
    assert by_service["agent-indexer"].affected_callers == {"agent-orchestrator"}
    assert by_service["gateway"].dependent and not by_service["gateway"].direct
    assert by_service["gateway"].affected_callers == frozenset()
    assert places(GRAPH, "rabbitmq", ("ollama",))[0].affected_callers == frozenset()


def test_an_independent_service_whose_callers_send_less_passes():
    # redis down: the summarizer calls ollama 1/s instead of 10/s, and ollama completes 1.7/s instead
    # of 16.7/s; it served what it was offered, so this is not a cascade
    finding = stack(totals={"ollama": 100.0}, demand={"ollama": 60.0})
    assert finding.status == "pass", finding.reason
    status, detail = statuses(finding)["ollama (independent) throughput"]
    assert status == "pass"
    assert "1.67/s completed against 1.67/s expected (16.7/s in steady state scaled by the demand" in detail
    assert "1/s against 10/s" in detail


def test_an_independent_service_that_hangs_while_its_callers_keep_calling_fails():
    # the summarizer's calls to ollama go on at 10/s (they time out, counted as failures), but ollama
    # completes a tenth of what it did: its requests hang
    finding = stack(totals={"ollama": 100.0})
    assert finding.status == "fail"
    assert "ollama (independent) throughput: 1.67/s completed against 16.7/s expected" in finding.reason
    assert "requests hang" in finding.reason


def test_callers_that_sent_nothing_leave_nothing_to_expect():
    finding = stack(totals={"ollama": 30.0}, demand={"ollama": 0.0})
    assert statuses(finding)["ollama (independent) throughput"][0] == "pass"
    assert "throughput_ratio[ollama]" not in {f.name for f in finding.evidence.figures}
    assert finding.status == "pass", finding.reason


def test_without_a_demand_series_throughput_is_not_judged_and_the_check_says_so():
    finding = stack(totals={"ollama": 100.0}, demand={"ollama": None})
    assert finding.status == "pass", finding.reason
    status, detail = statuses(finding)["ollama (independent) throughput"]
    assert status == "skipped"
    assert "not judged: the fault reaches its callers (agent-summarizer)" in detail
    assert 'no dependency_requests_total{outcome!="short_circuited"} with dependency="ollama"' in detail
    assert "only its latency and errors are judged" in detail
    # ... which still are
    assert stack(demand={"ollama": None}, errors={"ollama": 200.0}).status == "fail"
    assert stack(demand={"ollama": None}, api={"ollama": [9.0] * 100}).status == "fail"


def test_without_a_demand_series_and_no_requests_is_an_error():
    finding = stack(totals={"ollama": 0.0}, demand={"ollama": None})
    assert finding.status == "error"
    assert "ollama (independent): 0 requests in window 'fault', 1 needed" in finding.reason


def test_a_dependent_is_not_excused_by_its_callers_sending_less():
    # a dependent that hangs slows its own callers: the demand they offer cannot clear it
    finding = stack(totals={"agent-summarizer": 100.0}, demand={"agent-summarizer": 60.0})
    assert finding.status == "fail"
    assert "agent-summarizer (dependent) throughput: 1.67/s completed against 16.7/s in steady state" in (
        finding.reason
    )


def test_an_independent_service_whose_callers_the_fault_misses_keeps_the_steady_comparison():
    # rabbitmq down: ollama's only caller, the summarizer, does not use rabbitmq
    finding = stack(faulted="rabbitmq", totals={"ollama": 100.0}, demand={"ollama": 60.0})
    assert finding.status == "fail"
    assert (
        "ollama (independent) throughput: 1.67/s completed against 16.7/s in steady state" in finding.reason
    )


def test_the_demand_metric_is_a_parameter():
    params = NoCascadeParams(demand_metric="calls_total", demand_label="callee", demand_selector="")
    assert params.demand_counter == "calls_total"
    with pytest.raises(ValueError, match="demand_label"):
        NoCascadeParams(demand_label="")
    # the stack's callers export dependency_requests_total, not calls_total: nothing says what they offered
    finding = stack(totals={"ollama": 100.0}, demand={"ollama": 60.0}, params=params)
    assert statuses(finding)["ollama (independent) throughput"][0] == "skipped"


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
