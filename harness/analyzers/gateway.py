"""Rule 3.2, the API gateway: the only entry point, rate limiting, every request logged.

For the gateway (compose service and Prometheus ``service_label`` value ``service``), three checks:

1. ``rate limit``: past ``rate_limit`` requests per second (per client) the gateway refuses. From HAProxy's
   own series (``requests_metric``, ``refused_metric``) over the fault window and ``lead`` seconds before it
   (a burst is sent, and partly over, before it is proven and the fault window begins): requests refused
   pass; none refused although the frontend took at least ``min_excess`` times the limit (per second, rate
   over ``rate_range``) fail, naming both; less offered than that is ``error`` (the frontend counts every
   client while the limit is per client: only twice the limit, with the load under it, proves one client
   went past it). ``under the limit``: the load, under the limit, got no 429 in the steady window (its own
   ``load_rate_limited_metric``); a load that was not under the limit cannot show it (``error``).
2. ``logged``: the gateway's access-log lines in the objective's window (read from the engine, bounded as
   ``structured_logs`` reads them: harness/logs.py) match the requests HAProxy counted (every frontend, from
   the last scrape at or before each edge), within ``tolerance`` of them or ``slack`` lines, whichever is
   more. A cap reached, no container or no log source (a re-judge): ``error``.
3. ``entry point``: the host ports the stack's running containers publish, read from the engine when judged
   (``context.ports``), are the gateway's and ``monitoring_ports`` only, the latter on a loopback address
   unless ``loopback_only`` is false. None published by the gateway, or no engine to read: ``error``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.resources import peak, resolution_check, unjudged, vector, when
from harness.analyzers.restart_limit import from_zero
from harness.analyzers.structured_logs import NO_LOGS, _capped, _object
from harness.logs import LogLimit, ServiceLogs
from harness.metrics.counters import increase
from harness.metrics.port import Sample
from harness.ports import PublishedPort
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window

Data = dict[str, tuple[Sample, ...]]


@dataclass(frozen=True, slots=True)
class GatewayParams:
    rate_limit: float
    """Requests per second one client may send (the gateway's configured limit: GATEWAY_RATE_LIMIT)."""
    service: str = "gateway"
    service_label: str | None = None
    selector: str = ""
    """Extra matchers on HAProxy's series (default: every frontend of the gateway)."""
    requests_metric: str = "haproxy_frontend_http_requests_total"
    refused_metric: str = "haproxy_frontend_requests_denied_total"
    """Requests a deny rule refused (the reference gateway's answers 429)."""
    dropped_logs_metric: str = "haproxy_process_dropped_logs_total"
    """Reported when a count does not match: lines HAProxy could not write."""
    min_excess: float = 2.0
    rate_range: Seconds = 2.0
    lead: Seconds = 10.0
    load_selector: str = 'job="locust"'
    load_requests_metric: str = "locust_requests_total"
    load_rate_limited_metric: str = "locust_rate_limited_total"
    log_field: str = "message"
    log_value: str = "request"
    """A line is a request's when it is a JSON object whose ``log_field`` is ``log_value``."""
    tolerance: float = 0.05
    slack: int = 10
    """Lines the count may differ by in any case (HAProxy does not log its monitor-uri health probes)."""
    max_lines: int = 200_000
    max_bytes: int = 64 * 1024 * 1024
    monitoring_ports: tuple[str, ...] = ()
    """Host ports besides the gateway's that may be published (Prometheus, Pushgateway, fault proxy API)."""
    loopback_only: bool = True

    def __post_init__(self) -> None:
        if self.rate_limit <= 0:
            raise ValueError("rate_limit: must be more than zero requests per second")
        if self.min_excess < 1:
            raise ValueError("min_excess: must be at least 1 (the limit itself)")
        if self.rate_range <= 0 or self.lead < 0:
            raise ValueError("rate_range: must be longer than zero (and lead not negative)")
        if not 0 <= self.tolerance < 1 or self.slack < 0:
            raise ValueError("tolerance: a fraction from 0 to 1 (and slack not negative)")
        if self.max_lines < 1 or self.max_bytes < 1:
            raise ValueError("max_lines: max_lines and max_bytes must be at least 1")
        bad = [p for p in self.monitoring_ports if not p.isdigit() or not 0 < int(p) < 65536]
        if bad:
            raise ValueError(f"monitoring_ports: not port numbers: {', '.join(bad)}")

    def queries(self, service_label: str) -> dict[str, str]:
        gateway = f'{self.service_label or service_label}="{self.service}"'
        rate_range = f"{max(1, round(self.rate_range * 1000))}ms"
        requests = vector(self.requests_metric, gateway, self.selector)
        return {
            "offered": f"sum(rate({requests}[{rate_range}]))",
            "requests": f"sum({requests})",
            "refused": f"sum({vector(self.refused_metric, gateway, self.selector)})",
            "dropped_logs": f"sum({vector(self.dropped_logs_metric, gateway)})",
            "load_requests": f"sum({vector(self.load_requests_metric, self.load_selector)})",
            "load_rate_limited": f"sum({vector(self.load_rate_limited_metric, self.load_selector)})",
        }


def describe(p: GatewayParams) -> str:
    ports = f" and monitoring ports {', '.join(p.monitoring_ports)}" if p.monitoring_ports else ""
    return (
        f"{p.service} refuses past {p.rate_limit:g} req/s per client and not the load under it; every request "
        f"logged (within {p.tolerance:.0%} or {p.slack} lines); only {p.service}{ports} published"
    )


def run(context: AnalysisContext, params: GatewayParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = resolution_check(context, params.rate_range / 2)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    queries = params.queries(context.service_label)
    data: Data = {name: _samples(recorder, context, query) for name, query in queries.items()}
    figures: list[Figure] = []
    checks = [
        _rate_limit(data, queries, context, params, figures),
        _under_limit(data, queries, context, params, figures),
        _logged(data, queries, context, params, figures),
        _entry_point(context, params, figures),
    ]
    plot = recorder.range(queries["offered"], context.timeline.whole, context.step)
    evidence = recorder.evidence(context, figures, plot, params.rate_limit)
    return conclude(checks, threshold, evidence, "")


def _samples(recorder: Recorder, context: AnalysisContext, query: str) -> tuple[Sample, ...]:
    """The one series a sum answers, over the whole timeline (the checks judge different windows of it)."""
    answer = recorder.range(query, context.timeline.whole, context.step)
    return next((s.finite() for s in answer if s.finite()), ())


def _rate_limit(
    data: Data, queries: dict[str, str], context: AnalysisContext, p: GatewayParams, figures: list[Figure]
) -> Check:
    name = "rate limit"
    fault = context.timeline.fault
    if fault is None:
        return Check(
            name, "error", "no fault window: nothing was offered past the limit (an http_burst at it?)"
        )
    span = Window("burst", max(context.timeline.whole.start, fault.start - p.lead), fault.end)
    offered = [s for s in data["offered"] if span.contains(s.t)]
    refused = increase(data["refused"], span.start, span.end)
    if not offered or refused is None:
        missing = queries["offered"] if not offered else queries["refused"]
        return Check(name, "error", f"no series for {missing} during the burst")
    top = peak(offered)
    figures += [Figure("refused", refused), Figure("peak_offered", top.value, "req/s")]
    took = f"the gateway took up to {top.value:.0f} req/s at {when(top.t, span)}"
    if refused > 0:
        return Check(
            name, "pass", f"{refused:g} requests refused past the limit of {p.rate_limit:g} req/s; {took}"
        )
    if top.value < p.min_excess * p.rate_limit:
        return Check(
            name,
            "error",
            f"none refused, but {took}: under {p.min_excess:g} x the limit of {p.rate_limit:g} req/s, too little "
            "to show one client past it (the frontend counts every client, the limit is per client)",
        )
    return Check(
        name,
        "fail",
        f"{top.value:.0f} req/s offered at {when(top.t, span)}, {p.min_excess:g}+ x the limit of "
        f"{p.rate_limit:g} req/s per client, and none refused ({p.refused_metric} did not rise): no rate limit",
    )


def _under_limit(
    data: Data, queries: dict[str, str], context: AnalysisContext, p: GatewayParams, figures: list[Figure]
) -> Check:
    name = "under the limit"
    steady = context.timeline.steady
    # The load's counters are pushed fresh each scenario: a series that appears late started at 0.
    sent, limited = (
        increase(from_zero(_inside(data[n], steady), steady.start, context.step), steady.start, steady.end)
        for n in ("load_requests", "load_rate_limited")
    )
    if sent is None or limited is None:
        missing = queries["load_requests"] if sent is None else queries["load_rate_limited"]
        return Check(
            name, "error", f"no series for {missing} in window 'steady': did the load push its metrics?"
        )
    rate = sent / steady.duration if steady.duration else 0.0
    figures += [Figure("load_rate_steady", rate, "req/s"), Figure("load_429_steady", limited)]
    if sent == 0:
        return Check(name, "error", "the load sent nothing in window 'steady'")
    if rate >= p.rate_limit:
        return Check(
            name,
            "error",
            f"the load sent {rate:.1f} req/s in window 'steady', not under the limit of {p.rate_limit:g} req/s",
        )
    shown = (
        f"the load's {sent:g} requests in window 'steady' ({rate:.1f} req/s, under {p.rate_limit:g} req/s)"
    )
    if limited > 0:
        return Check(name, "fail", f"{limited:g} of {shown} answered 429")
    return Check(name, "pass", f"none of {shown} answered 429")


def _inside(samples: tuple[Sample, ...], window: Window) -> tuple[Sample, ...]:
    return tuple(s for s in samples if window.start <= s.t <= window.end)


def _logged(
    data: Data, queries: dict[str, str], context: AnalysisContext, p: GatewayParams, figures: list[Figure]
) -> Check:
    name = "logged"
    if context.logs is None:
        return Check(name, "error", NO_LOGS)
    window = context.window
    logs = context.logs.read(p.service, window.start, window.end, LogLimit(p.max_lines, p.max_bytes))
    if logs.containers == 0:
        return Check(name, "error", f"no container of {p.service} to read: its logs are gone")
    if logs.capped:
        return Check(name, "error", f"cannot count every line{_capped(logs)}: raise max_lines / max_bytes")
    counted = increase(data["requests"], window.start, window.end)
    if counted is None:
        return Check(name, "error", f"no series for {queries['requests']} in window '{window.name}'")
    lines = _request_lines(logs, window, p)
    figures += [Figure("log_lines", lines), Figure("requests_counted", counted)]
    if counted == 0 and lines == 0:
        return Check(name, "error", f"no request in window '{window.name}': nothing to judge")
    allowed = max(p.tolerance * counted, float(p.slack))
    shown = f"{lines} request lines logged for {counted:g} requests counted"
    if abs(lines - counted) <= allowed:
        return Check(name, "pass", f"{shown} (within {allowed:.0f})")
    dropped = increase(data["dropped_logs"], window.start, window.end)
    said = f"; HAProxy dropped {dropped:g} log lines" if dropped else ""
    missing = "requests without a line" if lines < counted else "lines more than requests"
    return Check(name, "fail", f"{shown}: {abs(lines - counted):g} {missing}, {allowed:.0f} allowed{said}")


def _request_lines(logs: ServiceLogs, window: Window, p: GatewayParams) -> int:
    entries = (_object(line.text) for line in logs.lines if window.contains(line.at))
    return sum(1 for e in entries if e is not None and e.get(p.log_field) == p.log_value)


def _entry_point(context: AnalysisContext, p: GatewayParams, figures: list[Figure]) -> Check:
    name = "entry point"
    if context.ports is None:
        return Check(
            name,
            "error",
            "no engine to read the published ports from (a re-judge from run.json): they are judged during the run",
        )
    published = context.ports.published()
    figures.append(Figure("published_ports", len(published)))
    own = [x for x in published if x.service == p.service]
    others = [x for x in published if x.service != p.service and not _allowed(x, p)]
    if others:
        allowed = f" and {', '.join(p.monitoring_ports)}" + (" on loopback" if p.loopback_only else "")
        return Check(
            name,
            "fail",
            f"published besides {p.service}: {', '.join(x.describe() for x in others)} "
            f"(allowed: {p.service}'s ports{allowed if p.monitoring_ports else ''})",
        )
    if not own:
        return Check(
            name, "error", f"{p.service} publishes no port (is it running?): no entry point to judge"
        )
    rest = [x.describe() for x in published if x.service != p.service]
    also = f"; monitoring: {', '.join(rest)}" if rest else ""
    return Check(name, "pass", f"only {', '.join(x.describe() for x in own)}{also}")


def _allowed(port: PublishedPort, p: GatewayParams) -> bool:
    if str(port.host_port) not in p.monitoring_ports:
        return False
    return not p.loopback_only or ipaddress.ip_address(port.host_ip).is_loopback


ANALYZER = AnalyzerSpec("gateway", GatewayParams, run, describe, needs_fault=True)
