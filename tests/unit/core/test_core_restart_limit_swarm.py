"""restart_limit under Swarm, on synthetic engine-event series: a service run as Swarm tasks
(``harness_container_restart_delay_honoured`` 1) has its restart delay judged, since Swarm honours
``restart_policy.delay``; the window (at most ``max_restarts`` in any ``period``) fails a restart loop as
under Compose. Each check passes and fails."""

from __future__ import annotations

from collections.abc import Sequence

from core_synth import T0
from test_core_restart_limit import judged, put_service

from harness.analyzers.restart_limit import RestartLimitParams
from harness.metrics.fake import FakeMetricsSource

LABEL = "container_label_com_docker_compose_service"


def swarm(
    params: RestartLimitParams,
    exits: Sequence[float],
    restarts: Sequence[tuple[float, float]],
    starts: Sequence[float] = (),
    honoured: float = 1.0,
) -> FakeMetricsSource:
    fake = FakeMetricsSource()
    put_service(fake, params, "agent", exits, restarts, starts)
    fake.put(params.queries()["honoured"], {LABEL: "agent"}, [(T0 + i, honoured) for i in range(136)])
    return fake


# Swarm's replacements 6 s after each crash (a policy delay of 5 s), the fourth crash left down.
PARAMS = RestartLimitParams(delay=5.0)
COMPLIANT = dict(exits=[1, 9, 17, 25], restarts=[(7, 6.0), (15, 6.0), (23, 6.0)], starts=[61])


def test_swarm_delay_and_window_kept_passes_with_the_delay_judged() -> None:
    finding = judged(swarm(PARAMS, **COMPLIANT), PARAMS)
    assert finding.status == "pass", finding.reason
    checks = {c.name: c for c in finding.evidence.checks}
    assert checks["agent delay"].status == "pass"
    assert "Swarm tasks" in checks["agent delay"].detail
    assert "ignore restart_policy.delay" not in finding.reason


def test_swarm_restarting_sooner_than_the_delay_fails() -> None:
    fake = swarm(PARAMS, exits=[1, 3, 5, 7], restarts=[(2, 1.0), (4, 1.0), (6, 1.0)], starts=[61])
    finding = judged(fake, PARAMS)
    assert finding.status == "fail"
    assert "1.00 s from an exit to its restart (the policy asks 5 s)" in finding.reason


def test_swarm_restart_loop_within_the_window_fails() -> None:
    """restart-always under Swarm: condition any, max_attempts 0, its delay kept: a new task after every crash."""
    exits = [1 + 8 * i for i in range(7)]
    restarts = [(e + 6, 6.0) for e in exits]
    finding = judged(swarm(PARAMS, exits, restarts), PARAMS)
    assert finding.status == "fail"
    statuses = {c.name: c.status for c in finding.evidence.checks}
    assert statuses["agent restarts"] == "fail" and statuses["agent stays down"] == "fail"
    assert statuses["agent delay"] == "pass"  # the delay is kept: the window is what it breaks


def test_the_default_delay_is_the_rules_30_s() -> None:
    finding = judged(swarm(RestartLimitParams(), **COMPLIANT), RestartLimitParams())
    assert finding.status == "fail" and "the policy asks 30 s" in finding.reason


def test_compose_series_leave_the_delay_unjudged() -> None:
    finding = judged(swarm(PARAMS, honoured=0.0, **COMPLIANT), PARAMS)
    assert finding.status == "pass"
    assert {c.name: c.status for c in finding.evidence.checks}["agent delay"] == "skipped"
