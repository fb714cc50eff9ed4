"""The registry: every rule the lint judges, by its number in architecture-rules.md."""

from __future__ import annotations

from dataclasses import dataclass

from harness.lint.rules import lifecycle, ports, resources, security, volumes, workloads
from harness.lint.rules.base import Check


@dataclass(frozen=True, slots=True)
class Rule:
    number: str
    title: str
    check: Check


RULES: tuple[Rule, ...] = (
    Rule("1.1", "Memory and CPU limits, reservations 50-75% of limits", resources.check_limits),
    Rule("1.2", "CPU pinning by tier", resources.check_pinning),
    Rule("1.3", "Memory pools within budget, emergency reserve never allocated", resources.check_pools),
    Rule("2.2", "Healthcheck present, with the rule's timings", lifecycle.check_healthchecks),
    Rule("2.3", "Restart on-failure with bounded attempts", lifecycle.check_restart),
    Rule("2.4", "Dependencies wait for service_healthy", lifecycle.check_dependencies),
    Rule("3.2", "Only the gateway publishes ports", ports.check_publishing),
    Rule(
        "4.2", "Shared dependencies from named volumes, read-only where shared", volumes.check_shared_volumes
    ),
    Rule("5.1", "Ports inside the tier's allocated range", ports.check_ranges),
    Rule("5.2", "No forbidden common ports", ports.check_forbidden),
    Rule("5.3", "PORT environment variable for HTTP services", ports.check_port_variable),
    Rule("9.1", "Internal networks except the gateway's", security.check_networks),
    Rule("9.2", "No literal secrets in the environment", security.check_secrets),
    Rule("9.3", "Non-root user", security.check_user),
    Rule("12.1", "Ollama parallelism, loaded models and CPU limited", workloads.check_ollama),
    Rule("12.2", "Port 8080 reserved for the gateway", ports.check_gateway_ports),
    Rule("12.3", "Claude-like instances within 800 MB", workloads.check_claude),
)
RULE_NUMBERS = frozenset(rule.number for rule in RULES)
