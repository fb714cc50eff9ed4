"""Rules 1.1 (limits and reservations), 1.2 (CPU pinning), 1.3 (memory pools)."""

from __future__ import annotations

from collections.abc import Iterator

from harness.lint.config import LintConfig
from harness.lint.findings import Finding
from harness.lint.model import ComposeModel, Located, Service
from harness.lint.rules.base import error, warning
from harness.lint.units import format_bytes, format_cores


def _ratio_findings(
    service: Service,
    what: str,
    limit: Located[float] | Located[int] | None,
    reservation: Located[float] | Located[int] | None,
    bounds: tuple[float, float],
    missing_is_error: bool,
) -> Iterator[Finding]:
    if limit is None or limit.value <= 0:
        return
    low, high = bounds
    wanted = f"{low:.0%}-{high:.0%} of the limit"
    if reservation is None:
        make = error if missing_is_error else warning
        yield make("1.1", service, limit.loc, f"no {what} reservation: the rule asks for {wanted}")
        return
    ratio = reservation.value / limit.value
    if not low - 1e-9 <= ratio <= high + 1e-9:
        yield error(
            "1.1", service, reservation.loc, f"{what} reservation is {ratio:.0%} of the limit, not {wanted}"
        )


def check_limits(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        for dropped in service.discarded:  # says why a limit written in the file is missing
            yield warning("1.1", service, dropped.loc, dropped.value)
        if service.mem_limit is None or service.mem_limit.value <= 0:
            yield error(
                "1.1", service, service.loc, "no memory limit (deploy.resources.limits.memory or mem_limit)"
            )
        if service.cpu_limit is None or service.cpu_limit.value <= 0:
            yield error("1.1", service, service.loc, "no CPU limit (deploy.resources.limits.cpus or cpus)")
        yield from _ratio_findings(
            service,
            "memory",
            service.mem_limit,
            service.mem_reservation,
            config.memory_reservation_ratio,
            True,
        )
        yield from _ratio_findings(
            service, "CPU", service.cpu_limit, service.cpu_reservation, config.cpu_reservation_ratio, False
        )


def tier_cores(config: LintConfig, tier: str) -> frozenset[int]:
    """The cores a tier may use on this host: the rule's ranges (for 12+ cores) scaled down proportionally."""
    host = config.host_cores or 1
    reference = config.cpu_affinity.get(tier)
    if reference is None:
        return frozenset(range(host))
    if host >= config.reference_cores:
        return reference
    return frozenset(core * host // config.reference_cores for core in reference)


def check_pinning(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    host = config.host_cores or 1
    for service in model.services:
        if service.tier.value not in config.cpu_affinity and not service.tier_inferred:
            continue  # monitoring and the gateway may run on any core, once labelled so
        allowed = tier_cores(config, service.tier.value)
        expected = f"tier {service.tier.value} may use cores {format_cores(allowed)} on this {host}-core host"
        if service.cpuset is None:
            yield warning("1.2", service, service.loc, f"no cpuset: {expected}{service.tier_note()}")
            continue
        cores = service.cpuset.value
        absent = frozenset(c for c in cores if c >= host)
        if absent:
            yield error(
                "1.2",
                service,
                service.cpuset.loc,
                f"cpuset names core {format_cores(absent)}, absent on this {host}-core host",
            )
        elif service.tier_inferred:
            yield warning(
                "1.2",
                service,
                service.cpuset.loc,
                f"pinning not judged: no {config.labels.tier} label{service.tier_note()}",
            )
        elif not cores <= allowed:
            yield error(
                "1.2",
                service,
                service.cpuset.loc,
                f"cpuset {format_cores(cores)} outside the tier's cores: {expected}",
            )


def check_pools(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    pools = {pool.name: pool for pool in config.pools}
    members: dict[str, list[Service]] = {}
    for service in model.services:
        if service.pool is None:
            yield warning(
                "1.3",
                service,
                service.tier.loc,
                f"tier {service.tier.value} draws from no configured memory pool",
            )
            continue
        pool = pools.get(service.pool.value)
        if pool is None:
            yield error(
                "1.3",
                service,
                service.pool.loc,
                f"unknown memory pool {service.pool.value!r} (pools: {', '.join(pools)})",
            )
        elif pool.reserve:
            yield error(
                "1.3",
                service,
                service.pool.loc,
                f"pool {pool.name} is the emergency reserve: never allocated",
            )
        else:
            members.setdefault(pool.name, []).append(service)
    for name, services in members.items():
        budget = pools[name].budget
        total = 0
        for service in services:
            total += (service.mem_limit.value if service.mem_limit else 0) * service.replicas
            if total > budget:
                all_total = sum((s.mem_limit.value if s.mem_limit else 0) * s.replicas for s in services)
                yield error(
                    "1.3",
                    service,
                    service.mem_limit.loc if service.mem_limit else service.loc,
                    f"pool {name}: memory limits sum to {format_bytes(all_total)}, over its budget of "
                    f"{format_bytes(budget)} (services: {', '.join(s.name for s in services)})",
                )
                break
