"""gateway (rule 3.2) on synthetic series, logs and ports. Each of its checks passes, fails and errs:

- rate limit: a burst past the limit refused passes; twice the limit offered and nothing refused fails naming
  the offered rate and the limit; too little offered, or no series, is an error;
- under the limit: the load under the limit never answered 429 passes; a 429 fails; no load series, or a load
  not under the limit, is an error;
- logged: as many request lines as requests counted passes; lines missing fails; no log source, a cap reached,
  no container is an error;
- entry point: only the gateway and allowed monitoring ports on loopback pass; anything else published fails;
  no engine, or a gateway publishing nothing, is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from core_synth import T0, context, timeline

from harness.analyzers import ANALYZERS
from harness.analyzers.gateway import GatewayParams
from harness.analyzers.gateway import run as gateway
from harness.analyzers.judge import judge as judge_objective
from harness.analyzers.structured_logs import NO_LOGS
from harness.catalogue.parse import parse_text
from harness.logs import LogLimit, LogLine, ServiceLogs
from harness.metrics.fake import FakeMetricsSource
from harness.ports import PublishedPort
from harness.verdict import Finding, Verdict

PARAMS = GatewayParams(rate_limit=100, monitoring_ports=("10400",))
QUERIES = PARAMS.queries("service")
END = 135  # the default synthetic timeline: steady [0, 30), fault [30, 90), recovery [90, 135)
BURST = range(28, 34)  # seconds after T0: a burst starts before the fault window, proven inside it
STEADY = 21  # the load's 20 req/s and Prometheus' scrape of the metrics frontend


@dataclass
class Stack:
    """What the gateway saw each second, and what it wrote, published and refused."""

    burst: float = 400
    burst_at: range = BURST
    limited: bool = True
    load_429: float = 0
    logged: Callable[[int], int] = lambda n: n
    published: tuple[PublishedPort, ...] = (
        PublishedPort("gateway", "p-gateway-1", "127.0.0.1", 8080, "8080/tcp"),
        PublishedPort("prometheus", "p-prometheus-1", "127.0.0.1", 10400, "10400/tcp"),
    )
    omit: tuple[str, ...] = ()

    def taken(self, second: int) -> float:
        return STEADY + (self.burst if second in self.burst_at else 0)

    def refused(self, second: int) -> float:
        return max(0.0, self.taken(second) - STEADY - PARAMS.rate_limit) if self.limited else 0.0

    def source(self) -> FakeMetricsSource:
        fake = FakeMetricsSource()
        seconds = range(END + 1)

        def counter(name: str, per_second: Callable[[int], float], first: int = 0) -> None:
            if name not in self.omit:
                values = [(T0 + t, sum(per_second(s) for s in range(t))) for t in seconds if t >= first]
                fake.put(QUERIES[name], {}, values)

        counter("requests", self.taken)
        counter("refused", self.refused)
        counter("dropped_logs", lambda s: 0)
        # The load's first push comes 2 s in: its counters are judged as if they had been 0 before.
        counter("load_requests", lambda s: 20, first=2)
        counter("load_rate_limited", lambda s: self.load_429 if s == 10 else 0, first=2)
        if "offered" not in self.omit:
            fake.put(QUERIES["offered"], {}, [(T0 + t, self.taken(t - 1)) for t in seconds if t > 0])
        return fake

    def logs(self) -> FakeLogs:
        lines = [
            LogLine(T0 + s + 0.5, json.dumps({"message": "request", "status": 200}))
            for s in range(END)
            for _ in range(self.logged(int(self.taken(s))))
        ]
        lines.append(LogLine(T0 + 5, "[NOTICE] haproxy started"))  # no request's line
        return FakeLogs(lines)


@dataclass
class FakeLogs:
    """A LogSource over fixed lines of the gateway."""

    lines: list[LogLine]
    containers: int = 1
    capped: tuple[str, ...] = ()
    asked: list[tuple[str, float, float, LogLimit]] = field(default_factory=list)

    def read(self, service: str, since: float, until: float, limit: LogLimit) -> ServiceLogs:
        self.asked.append((service, since, until, limit))
        chosen = tuple(x for x in self.lines if since <= x.at <= until)
        return ServiceLogs(service, chosen, self.containers, self.capped)


@dataclass
class Ports:
    found: tuple[PublishedPort, ...]

    def published(self) -> tuple[PublishedPort, ...]:
        return self.found


def judge(
    stack: Stack,
    params: GatewayParams = PARAMS,
    logs: FakeLogs | None = None,
    ports: Ports | None = None,
    **kwargs: object,
) -> Finding:
    chosen_logs = logs if logs is not None else stack.logs()
    chosen_ports = ports if ports is not None else Ports(stack.published)
    options = {"window": "whole", "service_label": "service", "logs": chosen_logs, "ports": chosen_ports}
    return gateway(context(stack.source(), **{**options, **kwargs}), params)  # type: ignore[arg-type]


def check(finding: Finding | Verdict, name: str) -> tuple[str, str]:
    found = next(c for c in finding.evidence.checks if c.name == name)
    return found.status, found.detail


def figures(finding: Finding) -> dict[str, float]:
    return {f.name: f.value for f in finding.evidence.figures}


def test_a_gateway_that_refuses_past_its_limit_logs_everything_and_is_the_only_entry_passes() -> None:
    logs = Stack().logs()
    finding = judge(Stack(), logs=logs)
    assert finding.status == "pass", finding.reason
    assert check(finding, "rate limit") == (
        "pass",
        "1800 requests refused past the limit of 100 req/s; the gateway took up to 421 req/s at "
        "9 s into 'burst' (22:13:49 UTC)",
    )
    assert check(finding, "under the limit") == (
        "pass",
        "none of the load's 600 requests in window 'steady' (20.0 req/s, under 100 req/s) answered 429",
    )
    assert check(finding, "logged") == (
        "pass",
        "5235 request lines logged for 5235 requests counted (within 262)",
    )
    assert check(finding, "entry point") == (
        "pass",
        "only gateway 127.0.0.1:8080->8080/tcp; monitoring: prometheus 127.0.0.1:10400->10400/tcp",
    )
    assert figures(finding) == {
        "refused": 1800,
        "peak_offered": 421,
        "load_rate_steady": 20,
        "load_429_steady": 0,
        "log_lines": 5235,
        "requests_counted": 5235,
        "published_ports": 2,
    }
    window = context(FakeMetricsSource(), window="whole").window
    assert logs.asked == [("gateway", window.start, window.end, LogLimit(PARAMS.max_lines, PARAMS.max_bytes))]
    assert finding.evidence.limit == 100


# ------------------------------------------------------------------ rate limit


def test_a_gateway_that_never_refuses_fails_naming_the_offered_rate_and_the_limit() -> None:
    finding = judge(Stack(limited=False))
    assert finding.status == "fail"
    status, detail = check(finding, "rate limit")
    assert status == "fail"
    assert detail == (
        "421 req/s offered at 9 s into 'burst' (22:13:49 UTC), 2+ x the limit of 100 req/s per client, "
        "and none refused (haproxy_frontend_requests_denied_total did not rise): no rate limit"
    )
    assert finding.reason.startswith("rate limit: 421 req/s offered")


def test_too_little_offered_to_pass_one_client_past_the_limit_is_an_error() -> None:
    status, detail = check(judge(Stack(burst=150, limited=False)), "rate limit")
    assert status == "error"
    assert detail.startswith("none refused, but the gateway took up to 171 req/s at 9 s into 'burst'")
    assert "under 2 x the limit of 100 req/s, too little to show one client past it" in detail


@pytest.mark.parametrize("missing", ["refused", "offered"])
def test_no_series_for_the_burst_is_an_error(missing: str) -> None:
    status, detail = check(judge(Stack(omit=(missing,))), "rate limit")
    assert (status, detail) == ("error", f"no series for {QUERIES[missing]} during the burst")


def test_a_burst_over_before_the_fault_window_counts_within_the_lead_only() -> None:
    early = Stack(burst_at=range(22, 28))  # sent and refused in the 8 s before the burst was proven
    assert check(judge(early), "rate limit")[0] == "pass"
    status, detail = check(judge(early, GatewayParams(rate_limit=100, lead=0)), "rate limit")
    assert status == "error"
    assert detail.startswith("none refused, but the gateway took up to 21 req/s at 0 s into 'burst'")


def test_a_scenario_without_a_fault_window_is_an_error() -> None:
    tl = timeline(steady=END, fault=None)
    status, detail = check(judge(Stack(), tl=tl), "rate limit")
    assert status == "error"
    assert detail.startswith("no fault window: nothing was offered past the limit")


# ------------------------------------------------------------------ under the limit


def test_the_load_under_the_limit_answered_429_fails() -> None:
    finding = judge(Stack(load_429=3))
    assert finding.status == "fail"
    assert check(finding, "under the limit") == (
        "fail",
        "3 of the load's 600 requests in window 'steady' (20.0 req/s, under 100 req/s) answered 429",
    )


def test_no_load_series_is_an_error() -> None:
    status, detail = check(judge(Stack(omit=("load_rate_limited",))), "under the limit")
    assert status == "error"
    assert detail == (
        f"no series for {QUERIES['load_rate_limited']} in window 'steady': did the load push its metrics?"
    )


def test_a_load_not_under_the_limit_cannot_show_it_and_is_an_error() -> None:
    finding = judge(Stack(), GatewayParams(rate_limit=15))
    assert check(finding, "under the limit") == (
        "error",
        "the load sent 20.0 req/s in window 'steady', not under the limit of 15 req/s",
    )


# ------------------------------------------------------------------ logged


def test_requests_without_a_log_line_fail() -> None:
    stack = Stack(logged=lambda n: n * 9 // 10)
    finding = judge(stack)
    status, detail = check(finding, "logged")
    assert status == "fail"
    assert (
        detail
        == "4590 request lines logged for 5235 requests counted: 645 requests without a line, 262 allowed"
    )
    assert finding.status == "fail"


def test_a_difference_within_the_tolerance_passes() -> None:
    stack = Stack(logged=lambda n: n - 1 if n > STEADY else n)  # one line short each burst second
    assert check(judge(stack), "logged") == (
        "pass",
        "5229 request lines logged for 5235 requests counted (within 262)",
    )
    strict = GatewayParams(rate_limit=100, monitoring_ports=("10400",), tolerance=0, slack=5)
    assert check(judge(stack, strict), "logged")[0] == "fail"


def test_more_lines_than_requests_fail_too() -> None:
    status, detail = check(judge(Stack(logged=lambda n: n * 2)), "logged")
    assert status == "fail"
    assert detail.endswith("5235 lines more than requests, 262 allowed")


@pytest.mark.parametrize(
    ("logs", "detail"),
    [
        (FakeLogs([], containers=0), "no container of gateway to read: its logs are gone"),
        (
            FakeLogs([], capped=("p-gateway-1",)),
            "cannot count every line (cap reached: only the first lines of p-gateway-1 were read): "
            "raise max_lines / max_bytes",
        ),
    ],
)
def test_logs_that_cannot_be_counted_are_an_error(logs: FakeLogs, detail: str) -> None:
    assert check(judge(Stack(), logs=logs), "logged") == ("error", detail)


def test_no_log_source_is_an_error() -> None:
    finding = gateway(context(Stack().source(), window="whole", service_label="service"), PARAMS)
    assert check(finding, "logged") == ("error", NO_LOGS)
    assert finding.status == "error"


def test_no_request_counted_is_an_error() -> None:
    status, detail = check(judge(Stack(omit=("requests",))), "logged")
    assert (status, detail) == ("error", f"no series for {QUERIES['requests']} in window 'whole'")


# ------------------------------------------------------------------ entry point


def test_an_agent_published_fails_naming_it() -> None:
    agent = PublishedPort("agent-indexer", "p-agent-indexer-1", "0.0.0.0", 10201, "10201/tcp")
    finding = judge(Stack(published=(*Stack().published, agent)))
    assert finding.status == "fail"
    assert check(finding, "entry point") == (
        "fail",
        "published besides gateway: agent-indexer 0.0.0.0:10201->10201/tcp "
        "(allowed: gateway's ports and 10400 on loopback)",
    )


def test_a_monitoring_port_on_every_address_fails_unless_loopback_is_not_required() -> None:
    wide = PublishedPort("prometheus", "p-prometheus-1", "0.0.0.0", 10400, "10400/tcp")
    gateway_port = Stack().published[0]
    assert check(judge(Stack(published=(gateway_port, wide))), "entry point")[0] == "fail"
    lenient = GatewayParams(rate_limit=100, monitoring_ports=("10400",), loopback_only=False)
    assert check(judge(Stack(published=(gateway_port, wide)), lenient), "entry point")[0] == "pass"
    unlisted = GatewayParams(rate_limit=100)
    assert check(judge(Stack(), unlisted), "entry point") == (
        "fail",
        "published besides gateway: prometheus 127.0.0.1:10400->10400/tcp (allowed: gateway's ports)",
    )


def test_no_engine_or_a_gateway_publishing_nothing_is_an_error() -> None:
    finding = gateway(
        context(Stack().source(), window="whole", service_label="service", logs=Stack().logs()), PARAMS
    )
    status, detail = check(finding, "entry point")
    assert status == "error"
    assert detail.startswith("no engine to read the published ports from")
    nothing = judge(Stack(published=Stack().published[1:]))
    assert check(nothing, "entry point") == (
        "error",
        "gateway publishes no port (is it running?): no entry point to judge",
    )


# ------------------------------------------------------------------ guard and parameters


def test_an_unknown_scrape_interval_is_an_error_before_any_check() -> None:
    finding = judge(Stack(), scrape=None)
    assert finding.status == "error"
    assert [c.name for c in finding.evidence.checks] == ["resolution"]


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_limit": 0},
        {"min_excess": 0.5},
        {"rate_range": 0},
        {"lead": -1},
        {"tolerance": 1},
        {"slack": -1},
        {"max_lines": 0},
        {"monitoring_ports": ("http",)},
        {"monitoring_ports": ("70000",)},
    ],
)
def test_parameters_that_cannot_judge_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        GatewayParams(**{"rate_limit": 100, **bad})  # type: ignore[arg-type]


CATALOGUE = """
version: 1
scenarios:
  gateway-burst:
    fault: {kind: http_burst, target: gateway, port: 8080, path: /api/indexer/task, concurrency: 32,
            requests: 2000, duration: 10s}
objectives:
  - id: gateway
    rule: "3.2"
    scenarios: [gateway-burst]
    window: whole
    analyzer: {name: gateway, params: {rate_limit: 100, monitoring_ports: ["10400"]}}
"""


def test_registered_and_handed_the_runs_logs_and_ports_by_the_judge() -> None:
    assert ANALYZERS["gateway"].run is gateway and ANALYZERS["gateway"].needs_fault
    catalogue = parse_text(CATALOGUE)
    stack = Stack(limited=False)
    objective, scenario = catalogue.objectives[0], catalogue.scenario("gateway-burst")
    verdict = judge_objective(
        objective, scenario, timeline(), stack.source(), 1.0, 4, {}, "service", (), stack.logs(), Ports(())
    )
    assert verdict.status == "fail"
    assert verdict.reason.startswith("rate limit: 421 req/s offered")
    assert check(verdict, "logged")[0] == "pass"
    assert check(verdict, "entry point")[0] == "error"  # handed the engine's ports: none published
