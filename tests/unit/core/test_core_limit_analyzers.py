"""Rules 8.2, 12.1 and 4.1 analyzers on synthetic series: the reference stack passes, each mutant's
behaviour fails, too little data is an error."""

from __future__ import annotations

import pytest
from core_synth import PoolAgent, context, counter, every_scrape, timeline

from harness.analyzers.concurrency_limit import ConcurrencyLimitParams
from harness.analyzers.concurrency_limit import run as concurrency_limit
from harness.analyzers.model_pool import ModelPoolParams
from harness.analyzers.model_pool import run as model_pool
from harness.analyzers.ollama_limits import OllamaLimitsParams
from harness.analyzers.ollama_limits import run as ollama_limits
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure

BASELINE = timeline(steady=40, fault=None)
WINDOW = BASELINE.whole
AGENTS = ("agent-orchestrator", "agent-summarizer", "agent-indexer")


def judge(run, params, fake: FakeMetricsSource, scrape: float | None = 1.0):
    return run(context(fake, "whole", BASELINE, scrape=scrape, service_label="service"), params)


def figures(finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name: f.value for f in finding.measured if isinstance(f, Figure)}


# ---- concurrency_limit (rule 8.2)

CONCURRENCY = ConcurrencyLimitParams()
CQ = CONCURRENCY.queries(("service",))


def put_agent(
    fake: FakeMetricsSource, service: str, limit: float = 10, inflight: float = 10, waiting: float = 4
) -> None:
    """An agent under load: in flight rises to ``inflight``, queued requests to ``waiting``."""
    labels = {"service": service}
    fake.put(CQ["limit"], labels, every_scrape(WINDOW, limit))
    fake.put(CQ["inflight"], labels, every_scrape(WINDOW, lambda t: min(inflight, t)))
    fake.put(CQ["waiting"], labels, every_scrape(WINDOW, lambda t: max(0.0, min(waiting, t - inflight))))


def test_reference_agents_at_their_limit_pass_and_report_what_waited():
    fake = FakeMetricsSource()
    for agent in AGENTS:
        put_agent(fake, agent)
    finding = judge(concurrency_limit, CONCURRENCY, fake)
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    assert measured["peak_inflight[agent-orchestrator]"] == 10
    assert measured["peak_waiting[agent-orchestrator]"] == 4
    assert any(c.detail == "peak 10 in flight (up to 4 waiting)" for c in finding.evidence.checks)
    assert finding.evidence.limit == 10


def test_an_unlimited_agent_fails_even_when_the_load_never_exceeds_ten():
    fake = FakeMetricsSource()
    put_agent(fake, "agent-orchestrator")
    put_agent(fake, "agent-summarizer", limit=0, inflight=6, waiting=0)  # the no-concurrency-limit mutant
    finding = judge(concurrency_limit, CONCURRENCY, fake)
    assert finding.status == "fail"
    assert "agent-summarizer limit: reports a limit of 0 (unlimited)" in finding.reason
    assert "the rule's is 10" in finding.reason


def test_a_limit_other_than_the_rules_fails():
    fake = FakeMetricsSource()
    put_agent(fake, "agent-indexer", limit=50, inflight=8)
    finding = judge(concurrency_limit, CONCURRENCY, fake)
    assert finding.status == "fail"
    assert "reports a limit of 50" in finding.reason


def test_more_in_flight_than_the_limit_fails_with_when():
    fake = FakeMetricsSource()
    put_agent(fake, "agent-orchestrator", inflight=25, waiting=0)
    finding = judge(concurrency_limit, CONCURRENCY, fake)
    assert finding.status == "fail"
    assert "agent-orchestrator in flight: 25 in flight at 25 s into 'whole'" in finding.reason
    assert "above the limit of 10" in finding.reason


def test_refusals_are_reported_when_the_service_counts_them():
    params = ConcurrencyLimitParams(refused_metric="agent_rejected_total")
    queries = params.queries(("service",))
    fake = FakeMetricsSource()
    labels = {"service": "agent-orchestrator"}
    fake.put(queries["limit"], labels, every_scrape(WINDOW, 10))
    fake.put(queries["inflight"], labels, every_scrape(WINDOW, 10))
    fake.put(queries["refused"], labels, counter(WINDOW, (5, 6, 7)))
    finding = judge(concurrency_limit, params, fake)
    assert finding.status == "pass", finding.reason
    assert figures(finding)["refused[agent-orchestrator]"] == 3
    assert "3 refused" in finding.reason


def test_a_missing_limit_series_is_an_error_and_no_inflight_series_at_all_is_an_error():
    fake = FakeMetricsSource()
    fake.put(CQ["inflight"], {"service": "agent-indexer"}, every_scrape(WINDOW, 3))
    finding = judge(concurrency_limit, CONCURRENCY, fake)
    assert finding.status == "error"
    assert "no agent_concurrency_limit" in finding.reason
    empty = judge(concurrency_limit, CONCURRENCY, FakeMetricsSource())
    assert empty.status == "error"
    assert "no series for max by (service) (agent_inflight_requests)" in empty.reason


def test_concurrency_with_too_few_scrapes_is_an_error():
    fake = FakeMetricsSource(scrape_interval=20.0)
    put_agent(fake, "agent-orchestrator", limit=0)
    finding = judge(concurrency_limit, CONCURRENCY, fake, scrape=20.0)
    assert finding.status == "error"
    assert "fewer than 4 scrapes" in finding.reason


def test_concurrency_params_are_checked():
    with pytest.raises(ValueError, match="max_concurrent"):
        ConcurrencyLimitParams(max_concurrent=0)
    assert (
        'agent_inflight_requests{job="agents"}'
        in ConcurrencyLimitParams(selector='job="agents"').queries(("service",))["inflight"]
    )


# ---- ollama_limits (rule 12.1)

OLLAMA = OllamaLimitsParams()
OQ = OLLAMA.queries("service")
REFERENCE_OLLAMA = {
    "num_parallel": 2,
    "requests_inflight": 2,
    "max_loaded_models": 1,
    "loaded_models": 1,
    "queue_depth": 5,
    "max_queue": 16,
    "cpus": 1.0,
    "cpu_use": 0.97,
}


def put_ollama(fake: FakeMetricsSource, rejected: tuple[float, ...] = (), **changes: float) -> None:
    """The model server's gauges, one unlabelled series each (the queries aggregate), every scrape."""
    for name, value in {**REFERENCE_OLLAMA, **changes}.items():
        fake.put(OQ[name], {}, every_scrape(WINDOW, value))
    fake.put(OQ["rejected"], {}, counter(WINDOW, rejected))


def test_reference_model_server_passes_and_reports_refusals():
    fake = FakeMetricsSource()
    put_ollama(fake, rejected=(30, 31))
    finding = judge(ollama_limits, OLLAMA, fake)
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    assert (measured["peak_inflight"], measured["rejected"], measured["cpu_limit"]) == (2, 2, 1.0)
    assert "queue length at most 5 (limit 16); 2 refused past it" in [
        c.detail for c in finding.evidence.checks
    ]
    assert 'max(ollama_requests_inflight{service="ollama"})' in finding.evidence.queries
    assert any("rate(container_cpu_usage_seconds_total{" in q for q in finding.evidence.queries)


def test_eight_parallel_generations_fail():
    fake = FakeMetricsSource()
    put_ollama(fake, num_parallel=8, requests_inflight=6)  # the ollama-parallel-8 mutant under load
    finding = judge(ollama_limits, OLLAMA, fake)
    assert finding.status == "fail"
    assert (
        "ollama num_parallel: reported parallelism 8 at 0 s into 'whole' (22:13:20 UTC), above 2"
        in finding.reason
    )
    assert "ollama in flight: generations in flight 6" in finding.reason


def test_a_second_loaded_model_fails():
    fake = FakeMetricsSource()
    put_ollama(fake, max_loaded_models=3, loaded_models=2)
    finding = judge(ollama_limits, OLLAMA, fake)
    assert finding.status == "fail"
    assert "model limit 3" in finding.reason and "models loaded 2" in finding.reason


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"cpus": 0.0}, "no CPU limit (quota 0 = unlimited)"),
        ({"cpus": 8.0, "cpu_use": 3.0}, "CPU limit (cores) 8"),
        ({"cpu_use": 1.4}, "CPU use (cores) 1.4"),
    ],
)
def test_cpu_without_or_above_its_limit_fails(changes, words):
    fake = FakeMetricsSource()
    put_ollama(fake, **changes)
    finding = judge(ollama_limits, OLLAMA, fake)
    assert finding.status == "fail"
    assert words in finding.reason


def test_a_queue_longer_than_its_bound_fails():
    fake = FakeMetricsSource()
    put_ollama(fake, queue_depth=40)
    finding = judge(ollama_limits, OLLAMA, fake)
    assert finding.status == "fail"
    assert "queue length 40" in finding.reason and "above 16" in finding.reason


def test_missing_model_server_or_container_series_are_errors():
    finding = judge(ollama_limits, OLLAMA, FakeMetricsSource())
    assert finding.status == "error"
    assert "no reported parallelism in window 'whole'" in finding.reason
    assert "no container_spec_cpu_quota" in finding.reason
    assert "no ollama_max_queue" in finding.reason


def test_a_cpu_rate_range_finer_than_two_scrapes_is_an_error():
    fake = FakeMetricsSource(scrape_interval=5.0)
    put_ollama(fake, num_parallel=8)
    finding = judge(ollama_limits, OllamaLimitsParams(cpu_rate_range=5.0), fake, scrape=5.0)
    assert finding.status == "error"
    assert "coarser than the 2.5 s" in finding.reason


def test_ollama_names_follow_the_params():
    queries = OllamaLimitsParams(service="llm", prefix="llm_", service_label="job").queries("service")
    assert queries["requests_inflight"] == 'max(llm_requests_inflight{job="llm"})'
    assert 'container_label_com_docker_compose_service="llm"' in queries["cpu_use"]
    assert "[20000ms]" in queries["cpu_use"]
    with pytest.raises(ValueError, match="max_parallel"):
        OllamaLimitsParams(max_parallel=0)


# ---- model_pool (rule 4.1)

POOL = ModelPoolParams()
CYCLE = ["tinyllama", "phi", "llama3.2"] * 10  # three models, two fit in 64 MiB at 24 MiB each


def put_pool(
    fake: FakeMetricsSource,
    agent: PoolAgent,
    asked: list[str],
    service: str = "agent-orchestrator",
    params: ModelPoolParams = POOL,
    oom_at: tuple[float, ...] = (),
) -> None:
    queries = params.queries(("service",))
    for name, samples in agent.simulate(WINDOW, asked).items():
        fake.put(queries[name], {"service": service}, samples)
    if "oom" in queries:
        fake.put(queries["oom"], {params.container_label: service}, counter(WINDOW, oom_at))


def test_an_lru_pool_that_evicts_passes_with_its_figures():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(), CYCLE)
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    assert measured["capacity[agent-orchestrator]"] == 2
    assert measured["peak_usage[agent-orchestrator]"] == 48 * 1024**2
    assert measured["loads[agent-orchestrator]"] == 30
    assert measured["evictions[agent-orchestrator]"] >= 28
    assert any("agent_model_pool_bytes" in q for q in finding.evidence.queries)


def test_a_pool_never_pressed_passes_with_the_eviction_check_skipped():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(), ["tinyllama"] * 30)
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "pass", finding.reason
    skipped = [c for c in finding.evidence.checks if c.status == "skipped"]
    assert skipped and "they fit, eviction not exercised" in skipped[0].detail


def test_a_pool_that_never_evicts_fails_over_budget_and_on_evictions():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(evict=False), CYCLE[:3])  # the model-pool-no-evict mutant
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "fail"
    assert "agent-orchestrator budget: over budget at" in finding.reason
    assert "72.0 MiB of a 64.0 MiB budget" in finding.reason
    assert "0 resident + 3 loads into a pool of 2 model(s) needed 1 eviction(s), saw 0" in finding.reason


def test_restarts_empty_the_pool_so_a_model_loaded_again_after_each_needs_no_eviction():
    # the crash loop: the agent dies three times, and each new process loads its one model again
    asked = ["tinyllama"] * 40
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(restarts_at=(10, 20, 30)), asked)
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "pass", finding.reason
    skipped = [c.detail for c in finding.evidence.checks if c.status == "skipped"]
    assert skipped == [
        "0 resident + 4 loads into a pool of 2 model(s) over 4 process lifetimes (a restart empties the pool):"
        " they fit, eviction not exercised"
    ]


def test_a_pool_that_never_evicts_still_fails_within_one_lifetime_across_restarts():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(evict=False, restarts_at=(20,)), CYCLE[:3] + ["tinyllama"] * 17 + CYCLE[:3])
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "fail"
    assert (
        "over 2 process lifetimes (a restart empties the pool) needed 2 eviction(s), saw 0" in finding.reason
    )


def test_an_oom_kill_of_the_pools_container_fails():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(), CYCLE, oom_at=(20.0,))
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "fail"
    assert "agent-orchestrator oom: 1 OOM event(s), at 20 s into 'whole'" in finding.reason


def test_the_model_servers_pool_is_the_same_check_in_models():
    params = ModelPoolParams(
        selector='service="ollama"',
        usage_metric="ollama_loaded_models",
        limit_metric="ollama_max_loaded_models",
        models_metric="ollama_loaded_models",
        loads_metric="ollama_model_loads_total",
        evictions_metric="ollama_model_evictions_total",
        unloads_metric="ollama_model_expirations_total",
    )
    good, bad = FakeMetricsSource(), FakeMetricsSource()
    put_pool(good, PoolAgent(limit=1, size=1), CYCLE, "ollama", params)
    put_pool(bad, PoolAgent(limit=1, size=1, evict=False), CYCLE, "ollama", params)
    assert judge(model_pool, params, good).status == "pass"
    failed = judge(model_pool, params, bad)
    assert failed.status == "fail"
    assert "ollama budget: over budget" in failed.reason and "3 of a 1 budget" in failed.reason


def test_a_missing_budget_or_pool_series_is_an_error():
    fake = FakeMetricsSource()
    queries = POOL.queries(("service",))
    fake.put(queries["usage"], {"service": "agent-indexer"}, every_scrape(WINDOW, 0))
    fake.put(queries["oom"], {POOL.container_label: "agent-indexer"}, every_scrape(WINDOW, 0))
    finding = judge(model_pool, POOL, fake)
    assert finding.status == "error"
    assert "no agent_model_pool_limit_bytes: the pool's budget cannot be read" in finding.reason
    empty = judge(model_pool, POOL, FakeMetricsSource())
    assert empty.status == "error"
    assert "no series for max by (service) (agent_model_pool_bytes)" in empty.reason


def test_a_zero_budget_fails_and_too_few_scrapes_is_an_error():
    fake = FakeMetricsSource()
    put_pool(fake, PoolAgent(limit=0), [])
    assert "no budget (agent_model_pool_limit_bytes 0)" in judge(model_pool, POOL, fake).reason
    coarse = judge(model_pool, POOL, fake, scrape=30.0)
    assert coarse.status == "error"
    assert "fewer than 4 scrapes" in coarse.reason
