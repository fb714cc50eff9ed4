"""load_balancing (rule 8.4) on synthetic HAProxy series. Each of its checks passes, fails and errs:

- even: round robin over two UP replicas passes; a 9:1 weighting fails naming the share; too few requests,
  one server, a server not UP in the window, or no series is an error;
- health routing (fault): the paused replica marked down and sent nothing after the detection allowance
  passes; requests still sent to it fail (whether or not HAProxy marked it down); no load, never marked down
  without a request, a target that is not a server of the backend, or a fault window shorter than the
  detection allowance is an error;
- health routing (recovery): requests reach it again after the return allowance passes; none while the
  others get some fails; no load at all, or a recovery shorter than the return allowance, is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from core_synth import T0, context, timeline

from harness.analyzers import ANALYZERS
from harness.analyzers.load_balancing import LoadBalancingParams
from harness.analyzers.load_balancing import run as load_balancing
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Finding

PARAMS = LoadBalancingParams(backend="search")
QUERIES = PARAMS.queries("service")
END = 135  # the default synthetic timeline: steady [0, 30), fault [30, 90), recovery [90, 135)
PAUSED = "agent-search-2"
FAULT, RECOVERY = 30, 90
DOWN_AT, UP_AT = 34, 93  # HAProxy's checks: 2 failures of (1 s + 1 s timeout), 2 successes


def marked_down(second: int) -> bool:
    return DOWN_AT <= second < UP_AT


@dataclass
class Backend:
    """What HAProxy sent each second to each server of backend search, and each server's state."""

    rate: float = 4.0
    weights: tuple[float, float] = (1, 1)
    checks: bool = True
    """False: no health checks (mutant route-to-unhealthy), the paused replica is never marked down."""
    load: Callable[[int], bool] = lambda s: True
    faulted: bool = True
    """False: nothing paused (a baseline)."""
    servers: tuple[str, ...] = ("agent-search-1", PAUSED)
    omit: tuple[str, ...] = ()

    def down(self, server: str, second: int) -> bool:
        return self.faulted and self.checks and server == PAUSED and marked_down(second)

    def sent(self, server: str, second: int) -> float:
        if not self.load(second):
            return 0.0
        healthy = [s for s in self.servers if not self.down(s, second)]
        if server not in healthy:
            return 0.0
        weight = dict(zip(self.servers, self.weights, strict=False)).get(server, 1)
        return (
            self.rate
            * weight
            / sum(dict(zip(self.servers, self.weights, strict=False)).get(s, 1) for s in healthy)
        )

    def source(self) -> FakeMetricsSource:
        fake = FakeMetricsSource()
        for server in self.servers:
            if "requests" not in self.omit:
                total = [(T0 + t, sum(self.sent(server, s) for s in range(t))) for t in range(END + 1)]
                fake.put(QUERIES["requests"], {"server": server}, total)
            if "up" not in self.omit:
                states = [(T0 + t, 0.0 if self.down(server, t) else 1.0) for t in range(END + 1)]
                fake.put(QUERIES["up"], {"server": server}, states)
        return fake


def judge(backend: Backend, params: LoadBalancingParams = PARAMS, **kwargs: object) -> Finding:
    options: dict[str, object] = {"window": "whole", "service_label": "service", "faulted": PAUSED}
    return load_balancing(context(backend.source(), **{**options, **kwargs}), params)  # type: ignore[arg-type]


def check(finding: Finding, name: str) -> tuple[str, str]:
    found = next(c for c in finding.evidence.checks if c.name == name)
    return found.status, found.detail


def figures(finding: Finding) -> dict[str, float]:
    return {f.name: f.value for f in finding.evidence.figures}


def test_round_robin_that_routes_around_the_paused_replica_and_back_passes() -> None:
    finding = judge(Backend())
    assert finding.status == "pass", finding.reason
    assert check(finding, "even (steady)") == (
        "pass",
        "120 requests: agent-search-1 60 (50%), agent-search-2 60 (50%); each within 15% of 50%",
    )
    assert check(finding, "even (recovery)")[0] == "pass"
    assert check(finding, "health routing (fault)") == (
        "pass",
        "HAProxy marked it down at 4 s into 'fault' (22:13:54 UTC); it got no request from 8 s into the fault "
        "to its end, the others 208",
    )
    assert check(finding, "health routing (recovery)") == (
        "pass",
        "agent-search-2 got 70 requests again from 10 s after the fault's end (the others 70)",
    )
    shown = figures(finding)
    assert shown["marked_down_after[agent-search-2]"] == 4
    assert shown["marked_up_after[agent-search-2]"] == 3
    assert shown["routed_while_unhealthy[agent-search-2]"] == 0
    assert QUERIES["requests"] in finding.evidence.queries


def test_a_replica_weighted_to_take_most_requests_fails_even() -> None:
    finding = judge(Backend(weights=(9, 1)))
    assert finding.status == "fail"
    assert check(finding, "even (steady)") == (
        "fail",
        "120 requests: agent-search-1 108 (90%), agent-search-2 12 (10%): agent-search-1's share 90% is 40% "
        "off an even 50% (at most 15%)",
    )
    assert check(finding, "even (recovery)")[0] == "fail"
    assert check(finding, "health routing (fault)")[0] == "pass"  # still routed around the paused one


def test_a_split_just_within_the_tolerance_passes_and_just_past_it_fails() -> None:
    assert check(judge(Backend(weights=(64, 36))), "even (steady)")[0] == "pass"  # 14% off
    assert check(judge(Backend(weights=(66, 34))), "even (steady)")[0] == "fail"  # 16% off


def test_requests_sent_to_a_replica_never_marked_down_fail_health_routing() -> None:
    finding = judge(Backend(checks=False))
    assert finding.status == "fail"
    assert check(finding, "health routing (fault)") == (
        "fail",
        "agent-search-2 made unhealthy by the fault got 104 requests from 8 s into the fault to its end "
        "(the others 104); HAProxy never marked it down: requests routed to an unhealthy replica",
    )
    assert check(finding, "even (steady)")[0] == "pass"
    assert figures(finding)["routed_while_unhealthy[agent-search-2]"] == 104


def test_requests_sent_after_the_detection_allowance_fail_even_when_marked_down_late() -> None:
    global DOWN_AT
    saved, DOWN_AT = DOWN_AT, 42  # marked down 12 s in: 4 s of requests past the 8 s allowance
    try:
        status, detail = check(judge(Backend()), "health routing (fault)")
    finally:
        DOWN_AT = saved
    assert status == "fail"
    assert "got 8 requests from 8 s into the fault" in detail
    assert "HAProxy marked it down at 12 s into 'fault'" in detail


def test_a_replica_never_routed_back_after_recovery_fails() -> None:
    global UP_AT
    saved, UP_AT = UP_AT, END + 10  # never marked up again
    try:
        finding = judge(Backend())
    finally:
        UP_AT = saved
    assert check(finding, "health routing (recovery)") == (
        "fail",
        "agent-search-2 got no request from 10 s after the fault's end while the others got 140 "
        "(HAProxy never marked it up again): never routed back",
    )
    # a replica still down in the recovery window: its split cannot be judged
    assert check(finding, "even (recovery)")[0] == "error"


def test_too_few_requests_are_an_error_not_a_pass() -> None:
    finding = judge(Backend(rate=1))
    assert check(finding, "even (steady)") == (
        "error",
        "30 requests to backend search in window 'steady', fewer than 40: too few to judge a split",
    )


def test_no_load_during_the_fault_or_after_is_an_error() -> None:
    finding = judge(Backend(load=lambda s: s < FAULT))
    assert check(finding, "health routing (fault)") == (
        "error",
        "no request reached backend search from 8 s into the fault to its end: nothing shows where requests went",
    )
    assert check(finding, "health routing (recovery)")[0] == "error"
    assert finding.status == "error"


def test_allowances_longer_than_their_windows_are_an_error() -> None:
    # the fault window lasts 60 s and the recovery 45 s: nothing is left to count after the allowances
    finding = judge(Backend(), LoadBalancingParams(backend="search", detection=61, return_within=46))
    assert check(finding, "health routing (fault)") == (
        "error",
        "the fault window is shorter than the detection allowance (61 s)",
    )
    assert check(finding, "health routing (recovery)") == (
        "error",
        "the recovery window is shorter than the return allowance (46 s)",
    )


def test_a_replica_never_marked_down_that_got_no_request_is_an_error() -> None:
    # only the other replica is sent anything: the fault reached nothing the balancer checks
    backend = Backend(checks=False, weights=(1, 0))
    status, detail = check(judge(backend), "health routing (fault)")
    assert status == "error"
    assert "HAProxy never marked it down: the fault did not reach its health checks" in detail


def test_a_fault_target_that_is_not_a_server_of_the_backend_is_an_error() -> None:
    finding = judge(Backend(), faulted="redis")
    assert check(finding, "health routing (fault)") == (
        "error",
        "the fault's target redis is not a server of backend search (servers: agent-search-1, agent-search-2)",
    )
    assert check(finding, "even (steady)")[0] == "pass"


def test_one_server_or_a_server_not_up_or_no_series_is_an_error() -> None:
    assert check(judge(Backend(servers=("agent-search-1",))), "even (steady)")[0] == "error"
    # a replica already down in the steady window: the split says nothing of the balancer
    global DOWN_AT
    saved, DOWN_AT = DOWN_AT, 10
    try:
        status, detail = check(judge(Backend()), "even (steady)")
    finally:
        DOWN_AT = saved
    assert status == "error"
    assert "agent-search-2 not UP at some scrape of window 'steady'" in detail
    assert check(judge(Backend(omit=("up",))), "even (steady)")[0] == "error"
    finding = judge(Backend(omit=("requests",)))
    assert finding.status == "error"
    assert "no series for sum by (server) (haproxy_server_sessions_total" in finding.reason


def test_a_baseline_without_a_fault_judges_the_split_only() -> None:
    finding = judge(Backend(faulted=False), tl=timeline(steady=40, fault=None), window="steady", faulted=None)
    assert finding.status == "pass", finding.reason
    assert [c.name for c in finding.evidence.checks] == ["even (steady)"]


def test_too_few_scrapes_is_an_error_asking_nothing() -> None:
    finding = judge(Backend(), scrape=5.0)
    assert finding.status == "error"
    assert finding.evidence.queries == ()


def test_params_are_checked_and_the_analyzer_is_registered() -> None:
    assert ANALYZERS["load_balancing"].params is LoadBalancingParams
    with pytest.raises(ValueError, match="tolerance"):
        LoadBalancingParams(backend="search", tolerance=1.5)
    with pytest.raises(ValueError, match="backend"):
        LoadBalancingParams(backend="")
    with pytest.raises(ValueError, match="detection"):
        LoadBalancingParams(backend="search", detection=0)
    assert QUERIES["up"] == (
        'max by (server) (haproxy_server_status{service="gateway", proxy="search", state="UP"})'
    )
