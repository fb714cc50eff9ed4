"""Rules 2.2 (healthchecks), 2.3 (restart policies), 2.4 (dependencies wait for health)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.lint.config import LintConfig, RestartSpec
from harness.lint.findings import Finding
from harness.lint.model import ComposeModel, Located, RestartPolicy, Service
from harness.lint.rules.base import error, seconds, warning

# What Docker uses when a healthcheck leaves a field out.
_DOCKER_HEALTH_DEFAULTS = {"interval": 30.0, "timeout": 30.0, "retries": 3, "start_period": 0.0}


def check_healthchecks(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    spec = config.healthcheck
    for service in model.services:
        hc = service.healthcheck
        if hc is None:
            yield error("2.2", service, service.loc, "no healthcheck")
            continue
        if hc.disabled:
            yield error("2.2", service, hc.loc, "healthcheck disabled")
            continue
        if hc.test is None:
            yield warning(
                "2.2", service, hc.loc, "healthcheck has no test: relies on the image's HEALTHCHECK"
            )
        fields: dict[str, Located[float] | Located[int] | None] = {
            "interval": hc.interval,
            "timeout": hc.timeout,
            "retries": hc.retries,
            "start_period": hc.start_period,
        }
        wanted = {
            "interval": spec.interval,
            "timeout": spec.timeout,
            "retries": spec.retries,
            "start_period": spec.start_period,
        }
        differences = []
        first = None
        for name, located in fields.items():
            value = located.value if located else _DOCKER_HEALTH_DEFAULTS[name]
            if abs(float(value) - float(wanted[name])) > 1e-9:
                shown = (str(value) if name == "retries" else seconds(float(value))) + (
                    "" if located else " by default"
                )
                rule = str(wanted[name]) if name == "retries" else seconds(float(wanted[name]))
                differences.append(f"{name} {shown} (rule {rule})")
                first = first or (located.loc if located else hc.loc)
        if differences:
            yield warning(
                "2.2",
                service,
                first or hc.loc,
                "healthcheck differs from the rule: " + ", ".join(differences),
            )


_ON_FAILURE = re.compile(r"^on-failure(?::(\d+))?$")


def _policy_findings(
    service: Service, policy: RestartPolicy, spec: RestartSpec, limit: str
) -> Iterator[Finding]:
    """deploy.restart_policy: on-failure with bounded attempts; delay and window as the rule's."""
    condition = policy.condition.value if policy.condition else "any"
    if condition != "on-failure":
        where = policy.condition.loc if policy.condition else policy.loc
        yield error(
            "2.3", service, where, f"restart_policy condition {condition} restarts forever (rule: {limit})"
        )
    elif policy.max_attempts is None:
        yield error(
            "2.3", service, policy.loc, f"restart_policy without max_attempts retries forever (rule: {limit})"
        )
    elif policy.max_attempts.value == 0:
        yield error(
            "2.3", service, policy.max_attempts.loc, f"max_attempts 0 means unlimited (rule: {limit})"
        )
    elif policy.max_attempts.value > spec.max_attempts:
        yield error(
            "2.3",
            service,
            policy.max_attempts.loc,
            f"max_attempts {policy.max_attempts.value} (rule: <= {spec.max_attempts})",
        )
    differences = [
        f"{name} {seconds(value.value) if value else 'not set'} (rule {seconds(wanted)})"
        for name, value, wanted in (
            ("delay", policy.delay, spec.delay),
            ("window", policy.window, spec.window),
        )
        if value is None or abs(value.value - wanted) > 1e-9
    ]
    if differences:
        yield warning("2.3", service, policy.loc, "restart_policy " + ", ".join(differences))


def _restart_findings(
    service: Service, restart: Located[str] | None, spec: RestartSpec, limit: str
) -> Iterator[Finding]:
    """The plain ``restart:`` key, when no deploy.restart_policy is written."""
    if restart is None or restart.value in ("no", "unless-stopped", ""):
        shown = f"restart: {restart.value}" if restart else "no restart policy"
        where = restart.loc if restart else service.loc
        yield error("2.3", service, where, f"{shown} (rule: deploy.restart_policy {limit})")
        return
    match = _ON_FAILURE.match(restart.value)
    if match is None:
        if restart.value != "always":  # always is reported whatever else is written
            yield error("2.3", service, restart.loc, f"unknown restart policy {restart.value!r}")
        return
    attempts = match.group(1)
    if attempts is None or int(attempts) > spec.max_attempts or int(attempts) == 0:
        yield error(
            "2.3",
            service,
            restart.loc,
            f"restart: {restart.value} is unbounded or over {spec.max_attempts} attempts",
        )
    else:
        yield warning(
            "2.3",
            service,
            restart.loc,
            f"restart: {restart.value} cannot set the rule's delay {seconds(spec.delay)} and window "
            f"{seconds(spec.window)}: use deploy.restart_policy",
        )


def check_restart(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    spec = config.restart
    limit = f"on-failure with max_attempts <= {spec.max_attempts}"
    timed = []
    for service in model.services:
        restart, policy = service.restart, service.restart_policy
        if restart is not None and restart.value == "always":
            yield error("2.3", service, restart.loc, f"restart: always restarts forever (rule: {limit})")
        if policy is None:
            yield from _restart_findings(service, restart, spec, limit)
            continue
        yield from _policy_findings(service, policy, spec, limit)
        if policy.delay or policy.window:
            timed.append(service)
    if timed:
        first = timed[0]
        assert first.restart_policy is not None
        yield warning(
            "2.3",
            first,
            first.restart_policy.loc,
            "plain Compose ignores restart_policy delay and window (only Swarm honours them); set on: "
            + ", ".join(s.name for s in timed),
        )


def check_dependencies(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        for dep in service.depends_on:
            target = model.service(dep.service)
            assert target is not None, "the loader refuses a dependency on no service"
            has_health = target.healthcheck is not None and not target.healthcheck.disabled
            if has_health and dep.condition not in ("service_healthy", "service_completed_successfully"):
                yield error(
                    "2.4",
                    service,
                    dep.loc,
                    f"depends_on {dep.service} with condition {dep.condition}: {dep.service} has a healthcheck, "
                    "wait with condition: service_healthy",
                )
            elif not has_health and dep.condition == "service_healthy":
                yield error(
                    "2.4",
                    service,
                    dep.loc,
                    f"waits for {dep.service} to be healthy but it has no healthcheck",
                )
