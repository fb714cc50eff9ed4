"""Rule 1.2 at run time (cpu_affinity) on synthetic exporter series: the reference stack's pinning passes on
2 and on 12 cores, a container on another tier's core fails, missing series (a stack with only cAdvisor)
and too little data are errors."""

from __future__ import annotations

import pytest
from core_synth import context, every_scrape, timeline

from harness.analyzers.cpu_affinity import CpuAffinityParams
from harness.analyzers.cpu_affinity import run as cpu_affinity
from harness.catalogue import parse_text
from harness.errors import InputError
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure

BASELINE = timeline(steady=40, fault=None)
PARAMS = CpuAffinityParams()
# The reference stack on a 2-core host: CPUSET_INFRASTRUCTURE=0, CPUSET_CRITICAL=1, CPUSET_STANDARD=1,
# monitoring and the gateway unpinned.
REFERENCE = (
    ("redis", "infrastructure", "0", True),
    ("agent-orchestrator", "critical", "1", True),
    ("agent-summarizer", "standard", "1", True),
    ("exporter", "monitoring", "0-1", False),
)


def put(fake: FakeMetricsSource, service: str, tier: str, cpus: str, pinned: bool, part: float = 1.0) -> None:
    window = BASELINE.whole
    labels = {
        PARAMS.container_label: service,
        "name": f"refstack_{service}_1",
        PARAMS.tier_label: tier,
        "cpus": cpus,
        "pinned": "true" if pinned else "false",
    }
    samples = every_scrape(window, 1.0)
    fake.put(PARAMS.query(), {k: v for k, v in labels.items() if v}, samples[: round(len(samples) * part)])


def source(*containers: tuple[str, str, str, bool], host_cores: int | None = 2) -> FakeMetricsSource:
    fake = FakeMetricsSource()
    for container in containers:
        put(fake, *container)
    if host_cores is not None:
        fake.put(PARAMS.cores_query(), {}, every_scrape(BASELINE.whole, float(host_cores)))
    return fake


def judge(fake: FakeMetricsSource, params: CpuAffinityParams = PARAMS, scrape: float | None = 1.0):
    return cpu_affinity(context(fake, "whole", BASELINE, scrape=scrape), params)


def detail(finding, service: str) -> str:
    return next(c.detail for c in finding.evidence.checks if c.name.startswith(service))


def test_the_reference_stacks_pinning_passes_on_two_cores():
    finding = judge(source(*REFERENCE))
    assert finding.status == "pass", finding.reason
    assert detail(finding, "agent-summarizer") == (
        "runs on core 1, within its tier's: tier standard may use 1 on this 2-core host"
    )
    assert detail(finding, "agent-orchestrator").endswith("tier critical may use 0-1 on this 2-core host")
    assert (
        detail(finding, "exporter")
        == "runs on cores 0-1 (not pinned: every core); tier monitoring may use any core"
    )
    assert isinstance(finding.measured, tuple)
    figures = {f.name: f.value for f in finding.measured if isinstance(f, Figure)}
    assert figures["host_cores"] == 2 and figures["cores[exporter/refstack_exporter_1]"] == 2
    assert "container_spec_cpuset_cpus_info" in finding.evidence.queries[0]


def test_a_standard_agent_on_the_infrastructure_core_fails_naming_it():
    # stack/mutants/cpuset-wrong-tier.yml: agent-indexer pinned to core 0
    finding = judge(source(*REFERENCE, ("agent-indexer", "standard", "0", True)))
    assert finding.status == "fail"
    assert finding.reason == (
        "agent-indexer/refstack_agent-indexer_1: runs on core 0, 0 outside its tier's: "
        "tier standard may use 1 on this 2-core host"
    )


@pytest.mark.parametrize(
    ("cpus", "pinned", "status"),
    [
        ("4-7", True, "pass"),
        ("5", True, "pass"),
        ("0-3", True, "fail"),
        ("4-8", True, "fail"),
        ("0-11", False, "fail"),
    ],
)
def test_on_twelve_cores_the_rules_own_ranges_apply(cpus: str, pinned: bool, status: str):
    finding = judge(source(("agent-orchestrator", "critical", cpus, pinned), host_cores=12))
    assert finding.status == status, finding.reason


def test_an_unpinned_container_passes_on_a_host_small_enough_unless_pinning_is_required():
    unpinned = ("agent-orchestrator", "critical", "0-1", False)
    assert judge(source(unpinned)).status == "pass"
    finding = judge(source(unpinned), CpuAffinityParams(require_pinned=True))
    assert finding.status == "fail"
    assert "require_pinned asks for a cpuset" in finding.reason


def test_tiers_and_host_cores_come_from_the_parameters():
    finding = judge(
        source(("agent-orchestrator", "critical", "2-3", True), host_cores=None),
        CpuAffinityParams(tiers={"critical": frozenset({"2-3"})}, reference_cores=4, host_cores=4),
    )
    assert finding.status == "pass", finding.reason
    assert PARAMS.cores_query() not in finding.evidence.queries  # given, not read


def test_a_container_without_a_tier_is_not_judged_as_the_lint():
    finding = judge(source(("sidecar", "", "0", True), *REFERENCE))
    assert finding.status == "pass"
    assert detail(finding, "sidecar") == (
        "runs on core 0; no tier label (container_label_sutazai_tier): not judged, as the lint"
    )
    assert judge(source(("sidecar", "", "0", True))).status == "skipped"


def test_a_cpuset_changed_mid_window_is_judged_in_each_of_its_states():
    fake = source(*REFERENCE)
    put(fake, "agent-indexer", "standard", "1", True, part=0.5)
    put(fake, "agent-indexer", "standard", "0-1", True, part=0.5)  # docker update --cpuset-cpus 0-1
    finding = judge(fake)
    assert finding.status == "fail"
    indexer = [(c.status, c.detail) for c in finding.evidence.checks if c.name.startswith("agent-indexer")]
    assert sorted(status for status, _ in indexer) == ["fail", "pass"]
    assert any(d.startswith("runs on cores 0-1, 0 outside") for _, d in indexer)


def test_a_stack_with_only_cadvisor_is_an_error_naming_the_series_never_a_pass():
    fake = FakeMetricsSource()
    fake.put(PARAMS.cores_query(), {}, every_scrape(BASELINE.whole, 2.0))  # cAdvisor has machine_cpu_cores
    finding = judge(fake)
    assert finding.status == "error"
    assert "no series for max by (" in finding.reason and "container_spec_cpuset_cpus_info" in finding.reason
    assert "cAdvisor exports no cpuset" in finding.reason


def test_without_the_hosts_cores_it_is_an_error():
    finding = judge(source(*REFERENCE, host_cores=None))
    assert finding.status == "error"
    assert finding.reason == "host cores: no machine_cpu_cores in window 'whole': give host_cores"


def test_too_few_scrapes_is_an_error():
    assert judge(source(*REFERENCE), scrape=None).status == "error"


def test_a_bad_tier_cpuset_is_one_line_naming_the_field():
    text = """\
version: 1
scenarios:
  baseline: {}
objectives:
  - id: affinity
    rule: "1.2"
    scenarios: all
    window: steady
    analyzer:
      name: cpu_affinity
      params:
        tiers: {critical: "four"}
"""
    with pytest.raises(InputError) as caught:
        parse_text(text, "slas.yaml")
    assert str(caught.value) == (
        "slas.yaml:12: objectives[affinity].analyzer.params.tiers: tier 'critical': not a cpuset: 'four'"
    )
