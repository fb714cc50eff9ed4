"""Rules 1.1 and 1.3 analyzers on synthetic container series: the reference stack passes, each broken
budget fails, too little data is an error."""

from __future__ import annotations

import pytest
from core_synth import context, counter, every_scrape, timeline

from harness.analyzers.memory_limits import MemoryLimitsParams
from harness.analyzers.memory_limits import run as memory_limits
from harness.analyzers.memory_pools import MemoryPoolsParams
from harness.analyzers.memory_pools import run as memory_pools
from harness.analyzers.resources import COMPOSE_SERVICE
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure

MIB = 1024**2
BASELINE = timeline(steady=40, fault=None)
LIMITS = MemoryLimitsParams()


def put_container(
    fake: FakeMetricsSource,
    service: str,
    limit: float = 256 * MIB,
    reservation: float = 160 * MIB,
    working_set: float | None = 100 * MIB,
    oom_at: tuple[float, ...] = (),
    params: MemoryLimitsParams = LIMITS,
) -> None:
    """One container as the exporter shows it, every scrape of the baseline's window; the working set
    rises to ``working_set`` at the end."""
    window, queries = BASELINE.whole, params.queries()
    labels = {params.container_label: service, "name": f"refstack_{service}_1"}
    fake.put(queries["limit"], labels, every_scrape(window, limit))
    fake.put(queries["reservation"], labels, every_scrape(window, reservation))
    fake.put(queries["oom"], labels, counter(window, oom_at))
    if working_set is not None:
        fake.put(
            queries["working_set"], labels, every_scrape(window, lambda t: working_set * (0.9 + t / 400))
        )


def reference(fake: FakeMetricsSource) -> None:
    put_container(fake, "redis", 128 * MIB, 96 * MIB, 40 * MIB)
    put_container(fake, "agent-summarizer")


def judge_limits(fake: FakeMetricsSource, params: MemoryLimitsParams = LIMITS, scrape: float | None = 1.0):
    return memory_limits(context(fake, "whole", BASELINE, scrape=scrape), params)


def figures(finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name: f.value for f in finding.measured if isinstance(f, Figure)}


# ---- memory_limits (rule 1.1)


def test_reference_containers_pass_with_limits_reservations_and_peaks():
    fake = FakeMetricsSource()
    reference(fake)
    finding = judge_limits(fake)
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    summarizer = "agent-summarizer/refstack_agent-summarizer_1"
    assert measured[f"memory_limit[{summarizer}]"] == 256 * MIB
    assert measured[f"reservation_ratio[{summarizer}]"] == pytest.approx(0.625)
    assert measured[f"peak_working_set[{summarizer}]"] == pytest.approx(100 * MIB)
    assert measured["peak_ratio[redis/refstack_redis_1]"] == pytest.approx(40 / 128)
    assert any("container_spec_memory_limit_bytes" in q for q in finding.evidence.queries)
    assert finding.evidence.samples and finding.evidence.plot


def test_a_container_without_a_memory_limit_fails_naming_it():
    fake = FakeMetricsSource()
    put_container(fake, "redis", 128 * MIB, 96 * MIB, 40 * MIB)
    put_container(fake, "agent-summarizer", limit=0, reservation=0)  # the no-memory-limit mutant
    finding = judge_limits(fake)
    assert finding.status == "fail"
    assert (
        "agent-summarizer/refstack_agent-summarizer_1 limit: no memory limit (0 = unlimited)"
        in finding.reason
    )
    assert "redis" not in finding.reason


def test_a_container_with_no_limit_series_at_all_fails():
    fake = FakeMetricsSource()
    reference(fake)
    labels = {COMPOSE_SERVICE: "ollama", "name": "refstack_ollama_1"}
    fake.put(LIMITS.queries()["working_set"], labels, every_scrape(BASELINE.whole, 10 * MIB))
    finding = judge_limits(fake)
    assert finding.status == "fail"
    assert "ollama/refstack_ollama_1 limit: no memory limit" in finding.reason


@pytest.mark.parametrize("reservation, shown", [(0, "0%"), (256 * MIB, "100%"), (64 * MIB, "25%")])
def test_a_reservation_outside_half_to_three_quarters_of_the_limit_fails(reservation, shown):
    fake = FakeMetricsSource()
    put_container(fake, "agent-indexer", reservation=reservation)
    finding = judge_limits(fake)
    assert finding.status == "fail"
    assert f"reservation: reservation {shown} of the limit (rule: 50%-75%)" in finding.reason


def test_an_oom_kill_fails_naming_the_container_and_when():
    fake = FakeMetricsSource()
    reference(fake)
    put_container(fake, "ollama", 384 * MIB, 256 * MIB, 300 * MIB, oom_at=(12.0,))
    finding = judge_limits(fake)
    assert finding.status == "fail"
    assert "ollama/refstack_ollama_1 oom: 1 OOM event(s), at 12 s into 'whole'" in finding.reason


def test_a_working_set_at_the_limit_fails():
    fake = FakeMetricsSource()
    put_container(fake, "agent-orchestrator", working_set=256 * MIB)
    finding = judge_limits(fake)
    assert finding.status == "fail"
    assert "working set: peak working set 256.0 MiB = 100% of the 256.0 MiB limit" in finding.reason


def test_the_rules_buffer_is_a_figure_and_fails_only_when_required():
    fake = FakeMetricsSource()
    put_container(fake, "agent-orchestrator", working_set=230 * MIB)
    relaxed = judge_limits(fake)
    assert relaxed.status == "pass", relaxed.reason
    assert figures(relaxed)["peak_ratio[agent-orchestrator/refstack_agent-orchestrator_1]"] == pytest.approx(
        230 / 256
    )
    strict = judge_limits(fake, MemoryLimitsParams(require_buffer=True))
    assert strict.status == "fail"
    assert "the rule's 20% buffer wants at most 83%" in strict.reason


def test_a_stopped_container_is_judged_on_its_limits_only():
    fake = FakeMetricsSource()
    reference(fake)
    put_container(fake, "postgres", working_set=None)
    finding = judge_limits(fake)
    assert finding.status == "pass", finding.reason
    assert any(c.status == "skipped" and "not running" in c.detail for c in finding.evidence.checks)


def test_too_few_scrapes_is_an_error_not_a_pass():
    fake = FakeMetricsSource(scrape_interval=15.0)
    reference(fake)
    finding = judge_limits(fake, scrape=15.0)
    assert finding.status == "error"
    assert "fewer than 4 scrapes" in finding.reason


def test_an_unknown_scrape_interval_is_an_error():
    fake = FakeMetricsSource(scrape_interval=None)
    reference(fake)
    assert judge_limits(fake, scrape=None).status == "error"


def test_no_container_series_is_an_error_naming_the_query():
    finding = judge_limits(FakeMetricsSource())
    assert finding.status == "error"
    assert "no series for max by (container_label_com_docker_compose_service, name)" in finding.reason
    assert "container exporter" in finding.reason


def test_no_oom_series_for_a_container_is_an_error():
    fake = FakeMetricsSource()
    reference(fake)
    labels = {COMPOSE_SERVICE: "gateway", "name": "refstack_gateway_1"}
    queries = LIMITS.queries()
    for name, value in (("limit", 128 * MIB), ("reservation", 80 * MIB), ("working_set", 20 * MIB)):
        fake.put(queries[name], labels, every_scrape(BASELINE.whole, value))
    finding = judge_limits(fake)
    assert finding.status == "error"
    assert "gateway/refstack_gateway_1 oom: no container_oom_events_total" in finding.reason


def test_a_selector_narrows_every_query():
    params = MemoryLimitsParams(selector='container_label_sutazai_tier="standard"')
    assert all('container_label_sutazai_tier="standard"' in q for q in params.queries().values())
    with pytest.raises(ValueError, match="reservation_min"):
        MemoryLimitsParams(reservation_min=0.8, reservation_max=0.7)


# ---- memory_pools (rule 1.3)

POOLS = MemoryPoolsParams()
REFERENCE_POOLS = {  # service -> (pool, peak working set in MiB), the reference stack's shape
    "redis": ("infrastructure", 40),
    "postgres": ("infrastructure", 120),
    "ollama": ("agent-critical", 300),
    "agent-orchestrator": ("agent-critical", 150),
    "agent-summarizer": ("agent-standard", 150),
    "prometheus": ("monitoring", 200),
}


def put_pooled(fake: FakeMetricsSource, members=REFERENCE_POOLS, params: MemoryPoolsParams = POOLS) -> None:
    for service, (pool, peak_mib) in members.items():
        labels = {params.container_label: service, "name": f"refstack_{service}_1"}
        if pool:
            labels[params.pool_label] = pool
        fake.put(params.query(), labels, every_scrape(BASELINE.whole, lambda t, p=peak_mib: p * MIB * t / 40))


def judge_pools(fake: FakeMetricsSource, params: MemoryPoolsParams = POOLS, scrape: float | None = 1.0):
    return memory_pools(context(fake, "whole", BASELINE, scrape=scrape), params)


def test_reference_pools_pass_with_their_summed_peaks():
    fake = FakeMetricsSource()
    put_pooled(fake)
    finding = judge_pools(fake)
    assert finding.status == "pass", finding.reason
    measured = figures(finding)
    assert measured["peak[pool agent-critical]"] == pytest.approx(450 * MIB)
    assert measured["budget[pool infrastructure]"] == 12 * 1024**3
    assert measured["peak[all pools]"] == pytest.approx(960 * MIB)
    assert measured["budget[all pools]"] == 28 * 1024**3  # 29.38 GiB divided, 1.38 GiB held back
    assert finding.threshold.startswith("each pool's working sets within its budget (infrastructure 12 GiB")


def test_a_pool_over_its_budget_fails_summing_its_containers_at_each_scrape():
    params = MemoryPoolsParams(
        budgets={"agent-critical": frozenset({"400m"}), "infrastructure": frozenset({"1g"})}
    )
    fake = FakeMetricsSource()
    put_pooled(
        fake, {k: v for k, v in REFERENCE_POOLS.items() if v[0] in ("agent-critical", "infrastructure")}
    )
    finding = judge_pools(fake, params)
    assert finding.status == "fail"
    assert (
        "pool agent-critical: peak 450.0 MiB of the 400.0 MiB budget at 40 s into 'whole'" in finding.reason
    )
    assert "infrastructure" not in finding.reason


def test_using_the_emergency_reserve_fails_even_when_each_pool_holds():
    params = MemoryPoolsParams(total="1g", reserve="200m")
    fake = FakeMetricsSource()
    put_pooled(fake)
    finding = judge_pools(fake, params)
    assert finding.status == "fail"
    assert "all pools: peak 960.0 MiB of the 824.0 MiB outside the reserve" in finding.reason


def test_a_container_in_no_pool_or_an_unknown_pool_fails_naming_it():
    fake = FakeMetricsSource()
    put_pooled(fake, {**REFERENCE_POOLS, "gateway": ("", 20), "cache": ("scratch", 20)})
    finding = judge_pools(fake)
    assert finding.status == "fail"
    assert "gateway pool: draws from no pool" in finding.reason
    assert "cache pool: draws from pool 'scratch', which has no budget" in finding.reason


def test_the_pools_mapping_places_services_the_labels_do_not():
    params = MemoryPoolsParams(pools={"infrastructure": frozenset({"gateway"})})
    fake = FakeMetricsSource()
    put_pooled(fake, {**REFERENCE_POOLS, "gateway": ("", 20)}, params)
    finding = judge_pools(fake, params)
    assert finding.status == "pass", finding.reason
    assert figures(finding)["peak[pool infrastructure]"] == pytest.approx(180 * MIB)


def test_pools_without_data_or_scrapes_are_errors():
    empty = judge_pools(FakeMetricsSource())
    assert empty.status == "error"
    assert "no series for max by (container_label_com_docker_compose_service, name" in empty.reason
    fake = FakeMetricsSource()
    put_pooled(fake)
    assert judge_pools(fake, scrape=None).status == "error"


def test_pool_sizes_are_parsed_as_the_lint_parses_them():
    assert MemoryPoolsParams(budgets={"a": frozenset({"1.5g"})}).budget_bytes() == {"a": int(1.5 * 1024**3)}
    with pytest.raises(ValueError, match="reserve: not a size"):
        MemoryPoolsParams(reserve="lots")
    with pytest.raises(ValueError, match="budgets: pool 'a' needs exactly one size"):
        MemoryPoolsParams(budgets={"a": frozenset({"1g", "2g"})})
