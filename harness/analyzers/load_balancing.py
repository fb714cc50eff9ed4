"""Rule 8.4, load balancing: requests spread evenly over a service's replicas, and health-based routing.

From the balancer's own per-server counts (HAProxy's ``haproxy_server_sessions_total{proxy, server}``: one
per request it sent to that server; ``requests_metric``) and states (``haproxy_server_status{state="UP"}``,
``status_metric``) of one backend (``backend``, the value of ``proxy_label``) of the gateway (``service``,
the value of the service label), over the scenario's timeline. A server is named after the compose service
of its replica (``server_label``), so the fault's target names the replica it made unhealthy. Checks:

1. ``even (steady)``, and in a scenario with a fault ``even (recovery)`` from ``return_within`` after the
   fault's end: each server's share of the backend's requests in the window is within ``tolerance`` of
   1/N (N servers). Fewer than two servers, fewer than ``min_requests`` requests, or a server not UP at a
   scrape of the window (then the split says nothing of the balancer): ``error``.
2. ``health routing (fault)``, with a fault whose target is one of the servers: from ``detection`` after
   the fault window's start (the fault is proven in force before the window begins; ``detection`` is the
   checks' fall x (inter + timeout) and a scrape) to its end, that server gets no request: none passes,
   naming when HAProxy marked it down; any fails, naming how many and whether HAProxy ever marked it down.
   No request to the other servers either (no load to show where requests went), a target that is not a
   server of the backend, or no fault window: ``error``; no request to it and never marked down:
   ``error`` (the fault did not reach its health checks).
3. ``health routing (recovery)``: from ``return_within`` after the fault's end (the checks' rise x inter
   and a scrape) to the scenario's end, that server gets requests again: none while the others got some
   fails; none at all is ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, selector
from harness.analyzers.resources import resolution_check, unjudged, vector, when
from harness.metrics.counters import increase
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window

PerServer = dict[str, tuple[Sample, ...]]


@dataclass(frozen=True, slots=True)
class LoadBalancingParams:
    backend: str
    """The balancer's backend holding the replicas (HAProxy's ``proxy`` label), e.g. ``search``."""
    service: str = "gateway"
    service_label: str | None = None
    selector: str = ""
    """Extra matchers on the balancer's series."""
    proxy_label: str = "proxy"
    server_label: str = "server"
    """The label naming a server: the compose service of its replica on the reference gateway."""
    requests_metric: str = "haproxy_server_sessions_total"
    status_metric: str = "haproxy_server_status"
    state_label: str = "state"
    up_state: str = "UP"
    tolerance: float = 0.15
    """A server's share may differ from 1/N by this much (a fraction of all the backend's requests)."""
    min_requests: int = 40
    detection: Seconds = 8.0
    """After the fault window's start, the time the balancer may take to stop sending to the replica."""
    return_within: Seconds = 10.0
    """After the fault's end, the time the balancer may take to send to the replica again."""

    def __post_init__(self) -> None:
        if not self.backend:
            raise ValueError("backend: the balancer's backend holding the replicas is required")
        if not 0 < self.tolerance < 1:
            raise ValueError("tolerance: a fraction above 0, below 1")
        if self.min_requests < 1:
            raise ValueError("min_requests: at least 1")
        if self.detection <= 0 or self.return_within <= 0:
            raise ValueError("detection: detection and return_within must be longer than zero")

    def queries(self, service_label: str) -> dict[str, str]:
        matchers = selector(
            f'{self.service_label or service_label}="{self.service}"',
            f'{self.proxy_label}="{self.backend}"',
            self.selector,
        )
        up = selector(matchers, f'{self.state_label}="{self.up_state}"')
        return {
            "requests": f"sum by ({self.server_label}) ({vector(self.requests_metric, matchers)})",
            "up": f"max by ({self.server_label}) ({vector(self.status_metric, up)})",
            "rate": f"sum by ({self.server_label}) (rate({vector(self.requests_metric, matchers)}[5s]))",
        }


def describe(p: LoadBalancingParams) -> str:
    return (
        f"{p.service}'s backend {p.backend}: each replica's share within {p.tolerance:.0%} of an even split "
        f"while all are UP; a replica made unhealthy gets no request from {p.detection:g} s into the fault, "
        f"and requests again from {p.return_within:g} s after it"
    )


def run(context: AnalysisContext, params: LoadBalancingParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = resolution_check(context, params.detection / 2)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    queries = params.queries(context.service_label)
    requests = _per_server(recorder, context, queries["requests"], params)
    up = _per_server(recorder, context, queries["up"], params)
    if not requests:
        hint = f"is {params.backend} a backend of {params.service}, and does Prometheus scrape its metrics?"
        return unjudged(
            recorder,
            context,
            threshold,
            [Check("data", "error", f"no series for {queries['requests']}: {hint}")],
        )
    timeline = context.timeline
    figures: list[Figure] = []
    checks = [_even(timeline.steady, requests, up, params, figures)]
    if timeline.fault is not None and timeline.recovery is not None:
        settled = min(timeline.recovery.start + params.return_within, timeline.recovery.end)
        checks.append(
            _even(Window("recovery", settled, timeline.recovery.end), requests, up, params, figures)
        )
        checks += _health_routing(context, timeline.fault, timeline.recovery, requests, up, params, figures)
    plot = recorder.range(queries["rate"], timeline.whole, context.step)
    return conclude(checks, threshold, recorder.evidence(context, figures, plot), "")


def _per_server(
    recorder: Recorder, context: AnalysisContext, query: str, p: LoadBalancingParams
) -> PerServer:
    answer = recorder.range(query, context.timeline.whole, context.step)
    return {s.label(p.server_label) or "": s.finite() for s in answer if s.finite()}


def _inside(samples: tuple[Sample, ...], window: Window) -> list[Sample]:
    return [s for s in samples if window.start <= s.t <= window.end]


def _even(
    window: Window, requests: PerServer, up: PerServer, p: LoadBalancingParams, figures: list[Figure]
) -> Check:
    name = f"even ({window.name})"
    if len(requests) < 2:
        return Check(
            name, "error", f"{len(requests)} server in backend {p.backend}: no split to judge (two or more)"
        )
    down = sorted(
        server for server in requests if any(s.value < 1 for s in _inside(up.get(server, ()), window))
    )
    unknown = sorted(server for server in requests if not _inside(up.get(server, ()), window))
    if unknown:
        return Check(
            name, "error", f"no {p.status_metric} for {', '.join(unknown)} in window '{window.name}'"
        )
    if down:
        return Check(
            name,
            "error",
            f"{', '.join(down)} not {p.up_state} at some scrape of window '{window.name}': the split "
            "says nothing of the balancer while not every replica is healthy",
        )
    counts = {server: increase(samples, window.start, window.end) for server, samples in requests.items()}
    missing = sorted(server for server, n in counts.items() if n is None)
    if missing:
        return Check(
            name, "error", f"no {p.requests_metric} for {', '.join(missing)} in window '{window.name}'"
        )
    sent = {server: n or 0.0 for server, n in counts.items()}
    total = sum(sent.values())
    figures.append(Figure(f"requests[{window.name}]", total))
    if total < p.min_requests:
        return Check(
            name,
            "error",
            f"{total:g} requests to backend {p.backend} in window '{window.name}', fewer than "
            f"{p.min_requests}: too few to judge a split",
        )
    even = 1 / len(sent)
    shares = {server: n / total for server, n in sorted(sent.items())}
    figures.extend(Figure(f"share[{server}][{window.name}]", share) for server, share in shares.items())
    shown = ", ".join(f"{server} {sent[server]:g} ({share:.0%})" for server, share in shares.items())
    worst = max(shares, key=lambda server: abs(shares[server] - even))
    off = abs(shares[worst] - even)
    detail = f"{total:g} requests: {shown}"
    if off <= p.tolerance:
        return Check(name, "pass", f"{detail}; each within {p.tolerance:.0%} of {even:.0%}")
    return Check(
        name,
        "fail",
        f"{detail}: {worst}'s share {shares[worst]:.0%} is {off:.0%} off an even {even:.0%} "
        f"(at most {p.tolerance:.0%})",
    )


def _health_routing(
    context: AnalysisContext,
    fault: Window,
    recovery: Window,
    requests: PerServer,
    up: PerServer,
    p: LoadBalancingParams,
    figures: list[Figure],
) -> list[Check]:
    names = ("health routing (fault)", "health routing (recovery)")
    target = context.faulted
    if target is None or target not in requests:
        said = f"the fault's target {target}" if target else "no fault target"
        detail = f"{said} is not a server of backend {p.backend} (servers: {', '.join(sorted(requests))})"
        return [Check(name, "error", detail) for name in names]
    others = [server for server in requests if server != target]
    return [
        _avoided(target, others, fault, requests, up.get(target, ()), p, figures),
        _returned(target, others, recovery, requests, up.get(target, ()), p, figures),
    ]


def _sent(requests: PerServer, servers: list[str], start: float, end: float) -> float | None:
    counts = [increase(requests[server], start, end) for server in servers]
    return None if any(n is None for n in counts) else sum(n or 0.0 for n in counts)


def _first(samples: tuple[Sample, ...], window: Window, up: bool) -> Sample | None:
    return next((s for s in _inside(samples, window) if (s.value >= 1) == up), None)


def _sent_after(
    name: str,
    window: Window,
    allowance: Seconds,
    allowance_name: str,
    when_: str,
    target: str,
    others: list[str],
    requests: PerServer,
    p: LoadBalancingParams,
) -> tuple[float, float] | Check:
    """Requests sent to the target and to the others from ``allowance`` into ``window`` to its end, or the
    ``error`` check saying why they cannot be counted (the window too short, or no series)."""
    span = Window(window.name, min(window.start + allowance, window.end), window.end)
    if span.empty:
        return Check(
            name,
            "error",
            f"the {window.name} window is shorter than the {allowance_name} allowance ({allowance:g} s)",
        )
    to_target = _sent(requests, [target], span.start, span.end)
    to_others = _sent(requests, others, span.start, span.end)
    if to_target is None or to_others is None:
        return Check(name, "error", f"no {p.requests_metric} for backend {p.backend} {when_}")
    return to_target, to_others


def _avoided(
    target: str,
    others: list[str],
    fault: Window,
    requests: PerServer,
    up: tuple[Sample, ...],
    p: LoadBalancingParams,
    figures: list[Figure],
) -> Check:
    name = "health routing (fault)"
    counts = _sent_after(
        name, fault, p.detection, "detection", "during the fault", target, others, requests, p
    )
    if isinstance(counts, Check):
        return counts
    routed, elsewhere = counts
    down = _first(up, fault, up=False)
    figures += [Figure(f"routed_while_unhealthy[{target}]", routed), Figure("routed_elsewhere", elsewhere)]
    if down is not None:
        figures.append(Figure(f"marked_down_after[{target}]", down.t - fault.start, "s"))
    marked = (
        f"HAProxy marked it down at {when(down.t, fault)}"
        if down is not None
        else "HAProxy never marked it down"
    )
    from_ = f"from {p.detection:g} s into the fault to its end"
    if routed > 0:
        return Check(
            name,
            "fail",
            f"{target} made unhealthy by the fault got {routed:g} requests {from_} (the others {elsewhere:g}); "
            f"{marked}: requests routed to an unhealthy replica",
        )
    if elsewhere <= 0:
        return Check(
            name,
            "error",
            f"no request reached backend {p.backend} {from_}: nothing shows where requests went",
        )
    if down is None:
        return Check(
            name,
            "error",
            f"{target} got no request {from_}, but {marked}: the fault did not reach its health checks",
        )
    return Check(name, "pass", f"{marked}; it got no request {from_}, the others {elsewhere:g}")


def _returned(
    target: str,
    others: list[str],
    recovery: Window,
    requests: PerServer,
    up: tuple[Sample, ...],
    p: LoadBalancingParams,
    figures: list[Figure],
) -> Check:
    name = "health routing (recovery)"
    counts = _sent_after(
        name, recovery, p.return_within, "return", "after the fault", target, others, requests, p
    )
    if isinstance(counts, Check):
        return counts
    back, elsewhere = counts
    marked_up = _first(up, recovery, up=True)
    if marked_up is not None:
        figures.append(Figure(f"marked_up_after[{target}]", marked_up.t - recovery.start, "s"))
    figures.append(Figure(f"routed_after_recovery[{target}]", back))
    from_ = f"from {p.return_within:g} s after the fault's end"
    if back > 0:
        return Check(name, "pass", f"{target} got {back:g} requests again {from_} (the others {elsewhere:g})")
    if elsewhere <= 0:
        return Check(name, "error", f"no request reached backend {p.backend} {from_}: nothing to judge")
    state = (
        f"HAProxy marked it up at {when(marked_up.t, recovery)}"
        if marked_up is not None
        else "HAProxy never marked it up again"
    )
    return Check(
        name,
        "fail",
        f"{target} got no request {from_} while the others got {elsewhere:g} ({state}): never routed back",
    )


ANALYZER = AnalyzerSpec("load_balancing", LoadBalancingParams, run, describe)
