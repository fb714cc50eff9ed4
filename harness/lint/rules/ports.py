"""Rules 3.2 (only the gateway publishes), 5.1 (port ranges by tier), 5.2 and 12.2 (forbidden ports),
5.3 (PORT for HTTP services)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from harness.lint.config import ANY_TIER, LintConfig
from harness.lint.findings import Finding
from harness.lint.merge import Loc
from harness.lint.model import ComposeModel, Service
from harness.lint.rules.base import error, warning
from harness.lint.units import PortRange, parse_port_range

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class PortUse:
    side: str  # "published", "container", "exposed", "PORT"
    ports: PortRange
    loc: Loc


def port_uses(service: Service) -> Iterator[PortUse]:
    for located in service.ports:
        spec = located.value
        if spec.published is not None:
            yield PortUse("published", spec.published, located.loc)
        yield PortUse("container", spec.target, located.loc)
    for exposed in service.expose:
        yield PortUse("exposed", exposed.value, exposed.loc)
    port = service.environment.get("PORT")
    if port is not None and port.value is not None and port.value.strip().isdigit():
        yield PortUse("PORT", parse_port_range(port.value.strip()), port.loc)


def may_publish_on_loopback(service: Service, config: LintConfig) -> bool:
    """Whether 3.2's configuration lets this service (by labelled tier or by name) publish on 127.0.0.1;
    an inferred tier grants nothing."""
    by_tier = service.tier.value in config.publish_on_loopback and not service.tier_inferred
    return by_tier or service.name in config.publish_on_loopback


def check_publishing(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        if service.tier.value == "gateway":
            continue
        for located in service.ports:
            spec = located.value
            allowed = may_publish_on_loopback(service, config)
            if allowed and spec.host_ip in LOOPBACK:
                continue
            host = f"{spec.host_ip or '0.0.0.0'}:{spec.published or 'random'}"
            note = "; this service may publish on 127.0.0.1 only" if allowed else ""
            yield error(
                "3.2",
                service,
                located.loc,
                f"publishes container port {spec.target} on {host}: only the gateway publishes ports{note}"
                f"{service.tier_note()}",
            )


def check_ranges(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    shared = config.port_ranges.get(ANY_TIER, ())
    for service in model.services:
        own = config.port_ranges.get(service.tier.value)
        if own is None:
            continue  # no range allocated to this tier (the gateway by default)
        allowed = (*own, *shared)
        shown = ", ".join(str(r) for r in allowed)
        for use in port_uses(service):
            outside = [p for p in use.ports.ports() if not any(r.low <= p <= r.high for r in allowed)]
            if outside:
                yield error(
                    "5.1",
                    service,
                    use.loc,
                    f"{use.side} port {use.ports} outside the {service.tier.value} range {shown}{service.tier_note()}",
                )


def _forbidden(rule: str, ports: frozenset[int], what: str, model: ComposeModel) -> Iterator[Finding]:
    for service in model.services:
        if service.tier.value == "gateway":
            continue
        for use in port_uses(service):
            hit = sorted(p for p in ports if use.ports.low <= p <= use.ports.high)
            if hit:
                yield error(
                    rule,
                    service,
                    use.loc,
                    f"{use.side} port {', '.join(map(str, hit))} {what}{service.tier_note()}",
                )


def check_forbidden(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    yield from _forbidden("5.2", config.forbidden_ports, "is a forbidden common port (gateway only)", model)


def check_gateway_ports(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    yield from _forbidden("12.2", config.gateway_only_ports, "is reserved for the gateway", model)


_HTTP_COMMAND = re.compile(r"https?://|\b(curl|wget|uvicorn|gunicorn|hypercorn|http\.server|flask|aiohttp)\b")


def serves_http(service: Service, config: LintConfig) -> str | None:
    """Why the service looks like an HTTP server, or None."""
    if service.tier.value in config.http_tiers and not service.tier_inferred:
        return f"tier {service.tier.value} serves HTTP"
    test = service.healthcheck.test.value if service.healthcheck and service.healthcheck.test else ""
    if _HTTP_COMMAND.search(test):
        return "its healthcheck speaks HTTP"
    if _HTTP_COMMAND.search(service.command):
        return "its command runs an HTTP server"
    return None


def check_port_variable(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        why = serves_http(service, config)
        if why is None:
            continue
        port = service.environment.get("PORT")
        if port is None:
            yield error(
                "5.3", service, service.loc, f"no PORT environment variable ({why}){service.tier_note()}"
            )
            continue
        if port.value is None or not port.value.strip().isdigit():
            continue
        number = int(port.value)
        targets = [u.ports for u in port_uses(service) if u.side in ("container", "exposed")]
        if targets and not any(r.low <= number <= r.high for r in targets):
            shown = ", ".join(str(r) for r in targets)
            yield warning(
                "5.3", service, port.loc, f"PORT={number} but the service's container ports are {shown}"
            )
