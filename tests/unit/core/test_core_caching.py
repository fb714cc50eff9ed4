"""caching (rule 8.3) on synthetic lookup counts, as Prometheus' increase over the window answers them: a
load that repeats requests passes the hit ratio, fresh inputs or a cache turned off fail it; hits cheaper
than misses pass, hits as dear fail; under a Redis fault, failed lookups served uncached pass and failed
tasks fail; too few lookups, too few timed answers, no failed lookup under the fault, no series or too few
scrapes are errors, never a pass."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from core_synth import context, timeline

from harness.analyzers import ANALYZERS
from harness.analyzers.caching import CachingParams
from harness.analyzers.caching import run as caching
from harness.catalogue import parse_text
from harness.errors import InputError
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure, Finding

TIMELINE = timeline()  # steady 30 s, fault 60 s, recovery 45 s
FAULT = TIMELINE.fault
assert FAULT is not None
PARAMS = CachingParams()
QUERIES = PARAMS.queries(("service",), FAULT.promql_range())
ORCHESTRATOR = "agent-orchestrator"

Counts = Mapping[str, float]
REPEATING: Counts = {"hit": 90, "miss": 10, "error": 0, "disabled": 0}
FRESH: Counts = {"hit": 0, "miss": 100, "error": 0, "disabled": 0}
CACHE_OFF: Counts = {"hit": 0, "miss": 0, "error": 0, "disabled": 100}
CHEAP = {"hit": 0.002, "miss": 0.4}  # mean seconds of an answer: Redis's GET against Ollama's tokens


def put(
    fake: FakeMetricsSource,
    service: str = ORCHESTRATOR,
    lookups: Counts = REPEATING,
    mean: Mapping[str, float] = CHEAP,
    failed: float | None = 0,
    timed: bool = True,
) -> None:
    """One service's increases over the fault window, per result; every lookup answered is timed (the
    agent times an error served uncached too), with the mean of its result (else a miss's)."""
    labels = {"service": service}
    at = FAULT.end
    for result, count in lookups.items():
        fake.put(QUERIES["lookups"], {**labels, "result": result}, [(at, count)])
        if timed:
            fake.put(QUERIES["timed"], {**labels, "result": result}, [(at, count)])
            seconds = count * mean.get(result, mean["miss"])
            fake.put(QUERIES["seconds"], {**labels, "result": result}, [(at, seconds)])
    if failed is not None:
        fake.put(QUERIES["failed"], labels, [(at, failed)])


def judged(
    fake: FakeMetricsSource, params: CachingParams = PARAMS, faulted: str | None = ORCHESTRATOR, **kw: object
) -> Finding:
    return caching(context(fake, "fault", TIMELINE, service_label="service", faulted=faulted, **kw), params)


def statuses(finding: Finding) -> dict[str, str]:
    return {c.name: c.status for c in finding.evidence.checks}


def figures(finding: Finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name: f.value for f in finding.measured if isinstance(f, Figure)}


# ---- hit ratio and hit cost: a scenario that does not fault the cache


def test_a_repeating_load_served_from_the_cache_and_cheaper_passes() -> None:
    fake = FakeMetricsSource()
    put(fake)
    put(fake, "agent-summarizer", {"hit": 60, "miss": 40, "error": 0, "disabled": 0})
    finding = judged(fake)
    assert finding.status == "pass", finding.reason
    assert statuses(finding) == {
        f"{s} {c}": "pass" for s in (ORCHESTRATOR, "agent-summarizer") for c in ("hit ratio", "hit cost")
    }
    measured = figures(finding)
    assert measured[f"hit_ratio[{ORCHESTRATOR}]"] == pytest.approx(0.9)
    assert measured["hit_ratio[agent-summarizer]"] == pytest.approx(0.6)
    assert measured[f"hit_cost[{ORCHESTRATOR}]"] == pytest.approx(0.005)
    assert measured[f"mean_miss[{ORCHESTRATOR}]"] == pytest.approx(0.4)
    assert "90 of 100 lookups served from the cache (90%)" in " ".join(
        c.detail for c in finding.evidence.checks
    )


def test_fresh_inputs_fail_the_hit_ratio_and_say_why() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups=FRESH)
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding)[f"{ORCHESTRATOR} hit ratio"] == "fail"
    assert "0 of 100 lookups served from the cache (0%), below 50%" in finding.reason
    assert "does the load repeat identical requests?" in finding.reason


def test_a_cache_turned_off_fails_naming_the_lookups_it_never_made() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups=CACHE_OFF)
    finding = judged(fake)
    assert finding.status == "fail"
    assert "(hit 0, miss 0, disabled 100;" in finding.reason
    assert statuses(finding)[f"{ORCHESTRATOR} hit cost"] == "error"  # no hit to time; the ratio decides


def test_hits_as_dear_as_misses_fail_the_cost() -> None:
    fake = FakeMetricsSource()
    put(fake, mean={"hit": 0.3, "miss": 0.4})
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding) == {f"{ORCHESTRATOR} hit ratio": "pass", f"{ORCHESTRATOR} hit cost": "fail"}
    assert "a hit takes 300.0 ms on average, a miss 400.0 ms: not cheaper by 0.5x" in finding.reason
    assert figures(finding)[f"hit_cost[{ORCHESTRATOR}]"] == pytest.approx(0.75)


def test_too_few_lookups_is_an_error_not_a_pass() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 9, "miss": 1, "error": 3, "disabled": 0})
    finding = judged(fake)
    assert finding.status == "error"
    assert "10 lookups the cache could answer (3 it failed), fewer than 20" in finding.reason


def test_too_few_timed_answers_on_a_side_is_an_error_for_the_cost() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 98, "miss": 2, "error": 0, "disabled": 0})
    finding = judged(fake)
    assert finding.status == "error"
    assert statuses(finding) == {f"{ORCHESTRATOR} hit ratio": "pass", f"{ORCHESTRATOR} hit cost": "error"}
    assert "98 answers from the cache and 2 computed were timed" in finding.reason


def test_no_duration_series_is_an_error_for_the_cost() -> None:
    fake = FakeMetricsSource()
    put(fake, timed=False)  # an exporter counting lookups without the histogram
    finding = judged(fake)
    assert finding.status == "error"
    assert statuses(finding)[f"{ORCHESTRATOR} hit cost"] == "error"


# ---- degraded: a scenario that faults the cache


def test_under_a_redis_fault_failed_lookups_served_uncached_pass() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 0, "miss": 5, "error": 120, "disabled": 0}, failed=0)
    finding = judged(fake, faulted="redis")
    assert finding.status == "pass", finding.reason
    assert statuses(finding) == {f"{ORCHESTRATOR} degraded": "pass"}  # no hit ratio under the fault
    assert figures(finding)[f"failed_lookups[{ORCHESTRATOR}]"] == 120
    assert "120 lookups failed, 0 tasks failed: served uncached" in finding.reason


def test_under_a_redis_fault_failed_tasks_fail() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 0, "miss": 0, "error": 120, "disabled": 0}, failed=120)
    finding = judged(fake, faulted="redis")
    assert finding.status == "fail"
    assert "120 lookups failed, 120 tasks failed (100% of the failed lookups, at most 1%)" in finding.reason


def test_failed_tasks_within_the_ratio_pass() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 0, "miss": 0, "error": 200, "disabled": 0}, failed=2)
    assert judged(fake, faulted="redis").status == "pass"
    assert judged(fake, CachingParams(max_error_ratio=0.005), faulted="redis").status == "fail"


def test_no_failed_lookup_under_the_fault_is_an_error() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups=REPEATING)
    finding = judged(fake, faulted="redis")
    assert finding.status == "error"
    assert "the fault did not reach this service's cache" in finding.reason


def test_no_failed_tasks_series_under_the_fault_is_an_error() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 0, "miss": 0, "error": 50, "disabled": 0}, failed=None)
    finding = judged(fake, faulted="redis")
    assert finding.status == "error" and "no agent_tasks_failed_total" in finding.reason


def test_the_cache_service_names_the_fault() -> None:
    fake = FakeMetricsSource()
    put(fake, lookups={"hit": 0, "miss": 0, "error": 50, "disabled": 0}, failed=50)
    assert judged(fake, CachingParams(cache_service="memcached"), faulted="redis").status == "error"
    assert judged(fake, CachingParams(cache_service="memcached"), faulted="memcached").status == "fail"


# ---- no data


def test_no_lookup_series_is_an_error_never_a_pass() -> None:
    finding = judged(FakeMetricsSource())
    assert finding.status == "error"
    assert "agent_cache_requests_total" in finding.reason and "cache lookups" in finding.reason


def test_too_few_scrapes_is_an_error_asking_nothing() -> None:
    fake = FakeMetricsSource()
    put(fake)
    finding = judged(fake, scrape=30.0)
    assert finding.status == "error" and "fewer than 4 scrapes" in finding.reason
    assert finding.evidence.queries == ()


# ---- parameters


def test_registered_and_read_from_slas_yaml() -> None:
    assert ANALYZERS["caching"].params is CachingParams
    catalogue = parse_text(
        """\
version: 1
scenarios:
  cache-repeat: {}
objectives:
  - id: cache
    rule: "8.3"
    scenarios: [cache-repeat]
    window: steady
    analyzer: {name: caching, params: {min_hit_ratio: 0.8, max_hit_cost: 0.25, miss: [miss]}}
""",
        "slas.yaml",
    )
    assert catalogue.objectives[0].measurement.params == CachingParams(
        min_hit_ratio=0.8, max_hit_cost=0.25, miss=("miss",)
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{min_hit_ratio: 0}", "min_hit_ratio"),
        ("{max_hit_cost: 1.5}", "max_hit_cost"),
        ("{max_error_ratio: 1}", "max_error_ratio"),
        ("{min_lookups: 0}", "min_lookups"),
        ("{miss: [hit]}", "only one of hit, miss and error"),
    ],
)
def test_bad_parameters_are_input_errors(params: str, message: str) -> None:
    text = f"""\
version: 1
scenarios:
  baseline: {{}}
objectives:
  - id: cache
    rule: "8.3"
    scenarios: [baseline]
    window: steady
    analyzer: {{name: caching, params: {params}}}
"""
    with pytest.raises(InputError, match=message):
        parse_text(text, "slas.yaml")
