"""restart_limit (rule 2.3) on synthetic engine-event series: a policy that gives up after 3 restarts
passes (its ignored delay said in the verdict), a restart loop fails, a container that comes back after
its last allowed attempt fails, too few crashes or no series at all is an error, never a pass."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from core_synth import T0, context, timeline

from harness.analyzers.restart_limit import RestartLimitParams, most_within
from harness.analyzers.restart_limit import run as restart_limit
from harness.catalogue import parse_text
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.port import Sample

LABEL = "container_label_com_docker_compose_service"
FAULT = T0 + 30  # core_synth's timeline: steady 30 s, fault 60 s, recovery 45 s
END = T0 + 135


def put_service(
    fake: FakeMetricsSource,
    params: RestartLimitParams,
    service: str,
    exits: Sequence[float],
    restarts: Sequence[tuple[float, float]],
    starts: Sequence[float] = (),
) -> None:
    """Play the event follower for one service: exits and (restart time, its delay) as offsets into the
    fault window, sampled every second over the whole run like the Pushgateway scrape."""
    queries = params.queries()
    labels = {LABEL: service}
    seconds = [T0 + i for i in range(136)]

    def counted(times: Sequence[float]) -> list[tuple[float, float]]:
        return [(t, float(sum(1 for e in times if FAULT + e <= t))) for t in seconds]

    def latest(times: Sequence[float], value=lambda e: FAULT + e) -> list[tuple[float, float]]:
        out = []
        for t in seconds:
            seen = [e for e in times if FAULT + e <= t]
            out.append((t, value(seen[-1]) if seen else 0.0))
        return out

    restart_times = [r for r, _ in restarts]
    delays = dict(restarts)
    fake.put(queries["restarts"], labels, counted(restart_times))
    # As pushed: an exit code's series exists from its first exit on, starting at 1
    fake.put(queries["exits"], labels, [(t, v) for t, v in counted(exits) if v > 0])
    fake.put(queries["delay"], labels, latest(restart_times, lambda e: delays[e]))
    fake.put(queries["last_start"], labels, latest(sorted([*restart_times, *starts])))
    fake.put(queries["last_exit"], labels, latest(exits))


def judged(fake: FakeMetricsSource, params: RestartLimitParams, window: str = "whole", scrape: float = 1.0):
    return restart_limit(context(fake, window, scrape=scrape, faulted="agent"), params)


COMPLIANT = dict(exits=[1, 2, 3, 4], restarts=[(1.1, 0.1), (2.2, 0.2), (3.4, 0.4)], starts=[61])


def test_three_restarts_then_down_passes_and_says_the_delay_was_not_judged() -> None:
    params = RestartLimitParams()
    fake = FakeMetricsSource()
    put_service(fake, params, "agent", **COMPLIANT)  # the revert's start at +61 is no restart
    put_service(fake, params, "redis", exits=[], restarts=[])
    finding = judged(fake, params)
    assert finding.status == "pass", finding.reason
    assert "ignore restart_policy.delay and .window" in finding.reason
    figures = {f.name: f.value for f in finding.measured}  # type: ignore[union-attr]
    assert figures["restarts[agent]"] == 3 and figures["restarts[redis]"] == 0
    assert figures["restart_delay[agent]"] == pytest.approx(0.1)
    checks = {c.name: c.status for c in finding.evidence.checks}
    assert checks["agent stays down"] == "pass" and checks["agent delay"] == "skipped"


def test_a_restart_loop_fails_naming_when() -> None:
    params = RestartLimitParams()
    fake = FakeMetricsSource()
    crashes = [float(i) for i in range(1, 9)]
    put_service(fake, params, "agent", exits=crashes, restarts=[(c + 0.1, 0.1) for c in crashes])
    finding = judged(fake, params)
    assert finding.status == "fail"
    assert "8 restarts within 300 s" in finding.reason and "restart loop" in finding.reason


def test_coming_back_after_the_last_allowed_attempt_fails() -> None:
    params = RestartLimitParams(period=10)  # 3 restarts in any 10 s, but the policy never gives up
    fake = FakeMetricsSource()
    crashes = [1, 2, 3, 4]
    restarts = [(1.1, 0.1), (2.1, 0.1), (3.1, 0.1), (19.0, 15.0)]
    put_service(fake, params, "agent", exits=crashes, restarts=restarts)
    finding = judged(fake, params)
    assert finding.status == "fail"
    assert "agent stays down: restarted" in finding.reason and "never gives up" in finding.reason


def test_too_few_crashes_to_exhaust_the_policy_is_an_error() -> None:
    params = RestartLimitParams()
    fake = FakeMetricsSource()
    put_service(fake, params, "agent", exits=[1, 2], restarts=[(1.1, 0.1), (2.1, 0.1)])
    finding = judged(fake, params)
    assert finding.status == "error" and "too few to exhaust" in finding.reason


def test_a_delay_the_engine_honours_is_judged() -> None:
    fake = FakeMetricsSource()
    put_service(fake, RestartLimitParams(), "agent", **COMPLIANT)
    finding = judged(fake, RestartLimitParams(engine_honours_delay=True))
    assert (
        finding.status == "fail"
        and "0.10 s from an exit to its restart (the policy asks 30 s)" in finding.reason
    )
    slow = FakeMetricsSource()
    put_service(slow, RestartLimitParams(), "agent", exits=[1, 32, 63], restarts=[(31, 30), (62, 30)])
    finding = judged(slow, RestartLimitParams(engine_honours_delay=True, max_restarts=2))
    statuses = {c.name: c.status for c in finding.evidence.checks}
    assert statuses["agent delay"] == "pass"


def test_no_series_is_an_error_never_a_pass() -> None:
    finding = judged(FakeMetricsSource(), RestartLimitParams())
    assert finding.status == "error" and "harness_container_restarts_total" in finding.reason
    assert "pushgateway" in finding.reason


def test_too_few_scrapes_is_an_error() -> None:
    fake = FakeMetricsSource()
    put_service(fake, RestartLimitParams(), "agent", **COMPLIANT)
    finding = judged(fake, RestartLimitParams(), window="fault", scrape=30.0)
    assert finding.status == "error" and "fewer than 4 scrapes" in finding.reason


def test_most_within_counts_each_samples_events() -> None:
    events = [Sample(0, 1), Sample(5, 2), Sample(11, 1), Sample(12, 1)]
    assert most_within(events, 5)[0] == 2
    assert most_within(events, 10)[0] == 4
    assert most_within(events, 13)[0] == 5
    assert most_within([], 10) == (0.0, None, None)
    assert timeline().whole.end == END


def test_read_typed_from_slas_yaml() -> None:
    catalogue = parse_text(
        """\
version: 1
scenarios:
  agent-crash-loop: {fault: {kind: crash_loop, target: agent-summarizer, interval: 1}}
objectives:
  - id: restart-limit
    rule: "2.3"
    scenarios: [agent-crash-loop]
    window: whole
    analyzer: {name: restart_limit, params: {max_restarts: 3, period: 5m, delay: 30s}}
""",
        "slas.yaml",
    )
    assert catalogue.objectives[0].measurement.params == RestartLimitParams(
        max_restarts=3, period=300, delay=30
    )
