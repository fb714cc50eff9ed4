"""The resource-budget analyzers (rules 1.1, 1.3, 4.1, 8.2, 12.1) together: read from slas.yaml as the
reference stack would use them, never a pass without data, and properties over random series."""

from __future__ import annotations

from core_synth import context, every_scrape, timeline
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analyzers.concurrency_limit import ConcurrencyLimitParams
from harness.analyzers.concurrency_limit import run as concurrency_limit
from harness.analyzers.judge import judge_scenario
from harness.analyzers.memory_limits import MemoryLimitsParams
from harness.analyzers.memory_limits import run as memory_limits
from harness.analyzers.memory_pools import MemoryPoolsParams
from harness.analyzers.resources import rises
from harness.catalogue import parse_text
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.port import Sample

OBJECTIVES = """\
  - id: memory-limits
    rule: "1.1"
    description: Every container has a memory limit, reserves 50-75% of it, stays under it, is never OOM-killed
    scenarios: all
    window: whole
    analyzer:
      name: memory_limits
      params: {reservation_min: 0.5, reservation_max: 0.75}

  - id: memory-buffer
    rule: "1.1"
    description: Every container's peak working set leaves the rule's 20% buffer under its limit
    scenarios: all
    window: whole
    severity: warn
    analyzer:
      name: memory_limits
      params: {require_buffer: true, buffer: 0.2}

  - id: memory-pools
    rule: "1.3"
    description: Each memory pool's containers stay within its budget; the emergency reserve is never used
    scenarios: all
    window: whole
    analyzer:
      name: memory_pools
      params:
        budgets: {infrastructure: 12g, agent-critical: 8g, agent-standard: 6g, monitoring: 2g}
        reserve: 1.38g

  - id: model-pool
    rule: "4.1"
    description: The agents' model pools stay within their budget, evict when more models are asked for, are never OOM-killed
    scenarios: all
    window: whole
    analyzer:
      name: model_pool
      params: {selector: 'job="agents"'}

  - id: model-server-pool
    rule: "4.1"
    description: The model server keeps at most its model limit loaded and evicts (LRU) to load another
    scenarios: all
    window: whole
    analyzer:
      name: model_pool
      params:
        selector: 'service="ollama"'
        usage_metric: ollama_loaded_models
        limit_metric: ollama_max_loaded_models
        models_metric: ollama_loaded_models
        loads_metric: ollama_model_loads_total
        evictions_metric: ollama_model_evictions_total
        unloads_metric: ollama_model_expirations_total

  - id: concurrency-limit
    rule: "8.2"
    description: Every agent admits at most 10 concurrent API requests and reports that limit
    scenarios: all
    window: whole
    analyzer:
      name: concurrency_limit
      params: {selector: 'job="agents"', max_concurrent: 10}

  - id: ollama-limits
    rule: "12.1"
    description: The model server runs at most 2 generations and 1 model, within a CPU limit of at most 4 cores, with a bounded queue
    scenarios: all
    window: whole
    analyzer:
      name: ollama_limits
      params: {service: ollama, max_parallel: 2, max_loaded_models: 1, cpu_limit: 4}
"""

CATALOGUE = parse_text(
    f"""\
version: 1
defaults: {{service_label: service}}
scenarios:
  baseline: {{windows: {{steady: 40s}}}}
  redis-kill: {{fault: {{kind: container_kill, target: redis}}}}
objectives:
{OBJECTIVES}""",
    "slas.yaml",
)


def test_the_reference_objectives_read_typed_from_slas_yaml():
    by_id = {o.id: o for o in CATALOGUE.objectives}
    assert by_id["memory-pools"].measurement.params == MemoryPoolsParams(
        budgets={
            "infrastructure": frozenset({"12g"}),
            "agent-critical": frozenset({"8g"}),
            "agent-standard": frozenset({"6g"}),
            "monitoring": frozenset({"2g"}),
        },
        reserve="1.38g",
    )
    assert by_id["memory-buffer"].measurement.params == MemoryLimitsParams(require_buffer=True)
    assert by_id["concurrency-limit"].measurement.params == ConcurrencyLimitParams(selector='job="agents"')
    assert by_id["ollama-limits"].measurement.threshold.startswith("ollama: at most 2 generations at once")


def test_without_data_every_resource_objective_is_an_error_never_a_pass():
    for name, tl in (("baseline", timeline(steady=40, fault=None)), ("redis-kill", timeline())):
        verdicts = judge_scenario(CATALOGUE, CATALOGUE.scenario(name), tl, FakeMetricsSource())
        assert len(verdicts) == 7
        assert {v.status for v in verdicts} == {"error"}, [(v.id, v.status, v.reason) for v in verdicts]


# ---- properties over random series

settings.register_profile("resources", deadline=None, max_examples=100)
settings.load_profile("resources")
BASELINE = timeline(steady=40, fault=None)
gauges = st.lists(st.integers(min_value=0, max_value=40), min_size=41, max_size=41)


@given(gauges, st.integers(min_value=1, max_value=30))
def test_concurrency_passes_exactly_when_in_flight_never_exceeds_the_limit(inflight, limit):
    params = ConcurrencyLimitParams(max_concurrent=limit)
    queries = params.queries(("service",))
    fake = FakeMetricsSource()
    labels = {"service": "agent"}
    fake.put(queries["limit"], labels, every_scrape(BASELINE.whole, limit))
    fake.put(queries["inflight"], labels, every_scrape(BASELINE.whole, lambda t: inflight[int(t)]))
    finding = concurrency_limit(context(fake, "whole", BASELINE, service_label="service"), params)
    assert finding.status == ("pass" if max(inflight) <= limit else "fail")


@given(gauges, st.integers(min_value=1, max_value=40))
def test_memory_passes_exactly_when_the_working_set_stays_under_the_limit(working_set, limit):
    params = MemoryLimitsParams()
    queries = params.queries()
    fake = FakeMetricsSource()
    labels = {params.container_label: "svc", "name": "svc_1"}
    for name, value in (("limit", limit), ("reservation", limit * 0.6), ("oom", 0)):
        fake.put(queries[name], labels, every_scrape(BASELINE.whole, value))
    fake.put(queries["working_set"], labels, every_scrape(BASELINE.whole, lambda t: working_set[int(t)]))
    finding = memory_limits(context(fake, "whole", BASELINE), params)
    assert finding.status == ("pass" if max(working_set) < limit else "fail"), finding.reason


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=50))
def test_counter_rises_add_up_to_the_increase_and_are_never_negative(values):
    samples = [Sample(float(i), float(v)) for i, v in enumerate(values)]
    found = rises(samples)
    assert all(r.value > 0 for r in found)
    if values == sorted(values):
        assert sum(r.value for r in found) == values[-1] - values[0]
