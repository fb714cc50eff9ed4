"""The static lint's sections of a starter slas.yaml (``pools:``, ``lint:``): the rules' values, written out.

Written from ``LintConfig``'s defaults (the rules document's values), so the starter states every budget
the lint applies; where the compose files say better (every healthcheck on the same timing, services
publishing on loopback, a gateway the lint cannot recognise by its label) the value is theirs and its
comment says so. ``harness lint --slas`` reads the sections back to the same configuration.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.init.survey import Survey
from harness.lint.config import ANY_TIER, GIB, LintConfig, Pool
from harness.lint.units import format_cores


def _rule(section: str) -> str:
    return f"default: rule {section}"


def lint_sections(survey: Survey) -> list[str]:
    config = LintConfig()
    timing, timing_why = _healthcheck_timing(survey, config)
    lines = [
        "# rule 1.3: memory pools. Each service draws from the pool named by its sutazai.memory-pool label, else",
        "# from the pool listing its sutazai.tier. Sizes as Docker writes them (binary units: 12g = 12 GiB).",
        "pools:",
        *(f"  {pool.name}: {_pool(pool)}  # {_rule('1.3')}" for pool in config.pools),
        "",
        "# The static lint (python -m harness lint --slas FILE): budgets and ranges of architecture-rules.md.",
        "lint:",
        f"  memory_reservation_ratio: {_list(config.memory_reservation_ratio)}  # {_rule('1.1')}",
        f"  cpu_reservation_ratio: {_list(config.cpu_reservation_ratio)}  # {_rule('1.1')}",
        "  cpu_affinity:  # 1.2: cores per tier on a 12+ core host, scaled down on smaller ones",
        f"    reference_cores: {config.reference_cores}  # {_rule('1.2')}",
        "    host_cores: auto  # os.cpu_count()",
        f"    tiers: {_flow((t, _quoted(format_cores(c))) for t, c in sorted(config.cpu_affinity.items()))}"
        f"  # {_rule('1.2')}",
        f"  healthcheck: {_flow(timing)}  # {timing_why}",
        f"  restart: {{max_attempts: {config.restart.max_attempts}, delay: {config.restart.delay:g}s, "
        f"window: {config.restart.window:g}s}}  # {_rule('2.3')}",
        *_loopback(survey),
        *_service_tiers(survey),
        "  port_ranges:  # 5.1 (no range for the gateway: not checked)",
        *(
            f"    {tier}: {_list(_quoted(str(r)) for r in ranges)}"
            + ("  # development/debug, open to every tier" if tier == ANY_TIER else "")
            for tier, ranges in config.port_ranges.items()
        ),
        f"  forbidden_ports: {_list(sorted(config.forbidden_ports))}  # {_rule('5.2')} (the gateway is exempt)",
        f"  gateway_only_ports: {_list(sorted(config.gateway_only_ports))}  # {_rule('12.2')}",
        f"  http_tiers: {_list(sorted(config.http_tiers))}  # {_rule('5.3')}",
        f"  secret_names: {_quoted(config.secret_names)}  # {_rule('9.2')}",
        f"  ollama: {{match: {_list(config.ollama.match)}, num_parallel_max: {config.ollama.num_parallel_max}, "
        f"max_loaded_models_max: {config.ollama.max_loaded_models_max}, "
        f"cpu_limit: {config.ollama.cpu_limit:g}}}  # {_rule('12.1')}",
        f"  claude: {{match: {_list(config.claude.match)}, "
        f"instance_memory_max: {config.claude.instance_memory_max // 1024**2}m}}  # {_rule('12.3')}",
    ]
    return lines


def _pool(pool: Pool) -> str:
    parts = [("budget", f"{pool.budget / GIB:g}g")]
    if pool.tiers:
        parts.append(("tiers", _list(sorted(pool.tiers))))
    if pool.reserve:
        parts.append(("reserve", "true"))
    return _flow(parts)


def _healthcheck_timing(survey: Survey, config: LintConfig) -> tuple[list[tuple[str, str]], str]:
    """2.2: a value every healthcheck of the stack sets alike (the lint warns on any other), else the rule's."""
    checks = [dict(s.health_timing) for s in survey.services if s.health_timing]
    timing, shared = [], []
    for name in ("interval", "timeout", "retries", "start_period"):
        values = {check.get(name) for check in checks}
        value = values.pop() if len(values) == 1 else None
        if value is None:
            value = float(getattr(config.healthcheck, name))
        else:
            shared.append(name)
        timing.append((name, f"{value:g}" if name == "retries" else f"{value:g}s"))
    if not shared:
        return timing, _rule("2.2")
    rest = f"; the rest {_rule('2.2')}" if len(shared) < len(timing) else ""
    return timing, f"{', '.join(shared)} from the healthchecks of every service{rest}"


def _loopback(survey: Survey) -> list[str]:
    """3.2 / 9.1: who publishes on 127.0.0.1 (the observability endpoints the harness reads from the host):
    a labelled monitoring service by its tier, any other by its name; the gateway is exempt anyway."""
    allowed: dict[str, list[str]] = {}
    for service in survey.services:
        if not service.loopback_only or service.role == "gateway" or service.tier == "gateway":
            continue
        key = (
            "monitoring"
            if service.tier == "monitoring" and service.tier_why.startswith("label")
            else service.name
        )
        allowed.setdefault(key, []).append(service.name)
    if not allowed:
        return [f"  publish_on_loopback: []  # {_rule('3.2, 9.1')}"]
    why = ", ".join(sorted(name for names in allowed.values() for name in names))
    return [f"  publish_on_loopback: {_list(sorted(allowed))}  # from ports of {why} (rules 3.2, 9.1)"]


def _service_tiers(survey: Survey) -> list[str]:
    """The gateway endpoint's service, when only its image or name says it is the gateway: the lint never
    grants a gateway's exemptions on a name, so the starter says it, for the user to confirm."""
    gateway = survey.first_reachable("gateway")
    if gateway is None or gateway.tier == "gateway":
        return []
    return [
        f"  service_tiers: {{{gateway.name}: gateway}}  # guess: {gateway.role_why}, the gateway endpoint above; "
        "check it is your single entry point, or label it sutazai.tier: gateway"
    ]


def _flow(items: Iterable[tuple[str, object]]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in items) + "}"


def _list(items: Iterable[object]) -> str:
    return "[" + ", ".join(f"{item:g}" if isinstance(item, float) else str(item) for item in items) + "]"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
