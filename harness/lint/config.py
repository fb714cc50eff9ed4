"""The lint's budgets and ranges: slas.yaml's ``pools:`` and ``lint:`` sections, defaults from the rules,
and the label names of ``labels:`` (harness.labels).

Other top-level keys of slas.yaml belong to the SLA catalogue and are ignored here. A wrong key, type or
value is an ``InputError`` naming slas.yaml:line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import InputError
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.lint.compose_cli import ComposeCli
from harness.lint.units import PortRange, parse_bytes, parse_cpuset, parse_duration, parse_port_range
from harness.yamlsource import LinedDict, LinedList, load_file

TIERS = ("infrastructure", "critical", "standard", "monitoring", "gateway")
ANY_TIER = "any"  # port ranges open to every tier (rule 5.1's development/debug range)


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    budget: int  # bytes
    tiers: tuple[str, ...] = ()  # services of these tiers draw from this pool unless labelled otherwise
    reserve: bool = False  # rule 1.3's emergency reserve: never allocated


@dataclass(frozen=True, slots=True)
class HealthcheckSpec:
    interval: float = 30.0
    timeout: float = 10.0
    retries: int = 3
    start_period: float = 60.0


@dataclass(frozen=True, slots=True)
class RestartSpec:
    max_attempts: int = 3
    delay: float = 30.0
    window: float = 300.0


@dataclass(frozen=True, slots=True)
class OllamaSpec:
    match: tuple[str, ...] = ("ollama",)  # service name or image containing one of these
    num_parallel_max: int = 2
    max_loaded_models_max: int = 1
    cpu_limit: float = 4.0


@dataclass(frozen=True, slots=True)
class ClaudeSpec:
    match: tuple[str, ...] = ("claude",)
    instance_memory_max: int = 800 * 1024**2


GIB = 1024**3
DEFAULT_POOLS = (
    Pool("infrastructure", 12 * GIB, ("infrastructure", "gateway")),
    Pool("agent-critical", 8 * GIB, ("critical",)),
    Pool("agent-standard", 6 * GIB, ("standard",)),
    Pool("monitoring", 2 * GIB, ("monitoring",)),
    Pool("emergency-reserve", int(1.38 * GIB), (), reserve=True),
)


def _ranges(*texts: str) -> tuple[PortRange, ...]:
    return tuple(parse_port_range(t) for t in texts)


@dataclass(frozen=True, slots=True)
class LintConfig:
    pools: tuple[Pool, ...] = DEFAULT_POOLS
    memory_reservation_ratio: tuple[float, float] = (0.5, 0.75)
    cpu_reservation_ratio: tuple[float, float] = (0.5, 0.75)
    reference_cores: int = 12
    host_cores: int | None = None  # None: os.cpu_count(), resolved by resolved()
    cpu_affinity: Mapping[str, frozenset[int]] = field(
        default_factory=lambda: {
            "infrastructure": frozenset(range(0, 4)),
            "critical": frozenset(range(4, 8)),
            "standard": frozenset(range(8, 12)),
        }
    )
    healthcheck: HealthcheckSpec = HealthcheckSpec()
    restart: RestartSpec = RestartSpec()
    publish_on_loopback: frozenset[str] = frozenset()  # tiers or service names allowed on 127.0.0.1 (3.2)
    service_tiers: Mapping[str, str] = field(default_factory=dict)  # tiers of unlabelled services, by name
    port_ranges: Mapping[str, tuple[PortRange, ...]] = field(
        default_factory=lambda: {
            "infrastructure": _ranges("10000-10099"),
            "critical": _ranges("10100-10199"),
            "standard": _ranges("10200-10399"),
            "monitoring": _ranges("10400-10499"),
            ANY_TIER: _ranges("10500-10599"),
        }
    )
    forbidden_ports: frozenset[int] = frozenset({80, 443, 8080, 8000, 3000, 5000})
    gateway_only_ports: frozenset[int] = frozenset({8080})
    http_tiers: frozenset[str] = frozenset({"critical", "standard"})
    secret_names: str = r"PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|KEY|APIKEY|CREDENTIALS?|PRIVATE"
    ollama: OllamaSpec = OllamaSpec()
    claude: ClaudeSpec = ClaudeSpec()
    compose: ComposeCli = "v2"  # whose rules resolve keys and limits; the command picks the machine's
    labels: StackLabels = DEFAULT_LABELS  # slas.yaml's labels: (the catalogue reads that section too)

    def resolved(self) -> LintConfig:
        """This configuration with the host's core count filled in (read at the entry point)."""
        return self if self.host_cores else replace(self, host_cores=os.cpu_count() or 1)

    def pool_for_tier(self, tier: str) -> str | None:
        return next((p.name for p in self.pools if tier in p.tiers), None)


# --- reading slas.yaml --------------------------------------------------------------------------

T = TypeVar("T")


def _fail(node: object, key: str | int | None, message: str) -> InputError:
    path = getattr(node, "path", "<slas>")
    if isinstance(node, LinedDict) and isinstance(key, str):
        return InputError(path, node.line_of(key), message)
    if isinstance(node, LinedList) and isinstance(key, int):
        return InputError(path, node.line_of(key), message)
    return InputError(path, getattr(node, "line", None), message)


def _mapping(node: object, name: str, allowed: set[str] | None = None) -> LinedDict:
    if not isinstance(node, LinedDict):
        raise _fail(node, None, f"{name} must be a mapping")
    for key in node:
        if allowed is not None and key not in allowed:
            known = ", ".join(sorted(allowed))
            raise _fail(node, key, f"{name}: unknown key {key!r} (known: {known})")
    return node


def _value(node: LinedDict, key: str, name: str, parse: Callable[[Any], T]) -> T:
    raw = node[key]
    try:
        return parse(raw)
    except (ValueError, TypeError) as exc:
        raise _fail(node, key, f"{name}.{key}: {exc}") from None


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"expected a non-negative number, got {value!r}")
    return float(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def _strings(value: object) -> tuple[str, ...]:
    items = _list(value)
    if not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"expected a list of non-empty strings, got {value!r}")
    return tuple(items)


def _tiers(value: object) -> frozenset[str]:
    tiers = _strings(value)
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown tier {unknown[0]!r} (tiers: {', '.join(TIERS)})")
    return frozenset(tiers)


def _ratio(value: object) -> tuple[float, float]:
    items = _list(value)
    if len(items) != 2:
        raise ValueError(f"expected [low, high], got {value!r}")
    low, high = (_number(i) for i in items)
    if not low <= high <= 1:
        raise ValueError(f"expected 0 <= low <= high <= 1, got {value!r}")
    return low, high


def _ports(value: object) -> frozenset[int]:
    items = _list(value)
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 65536 for i in items):
        raise ValueError(f"expected a list of port numbers, got {value!r}")
    return frozenset(items)


def _regex(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a regular expression, got {value!r}")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return value


def _host_cores(value: object) -> int | None:
    if value in (None, "auto"):
        return None
    cores = _int(value)
    if cores < 1:
        raise ValueError("expected auto or a positive integer")
    return cores


def _parse_pools(node: object) -> tuple[Pool, ...]:
    pools = _mapping(node, "pools")
    result: list[Pool] = []
    claimed: dict[str, str] = {}
    for name, spec in pools.items():
        if not isinstance(spec, LinedDict):
            raise _fail(pools, name, f"pools.{name} must be a mapping with budget, tiers, reserve")
        body = _mapping(spec, f"pools.{name}", {"budget", "tiers", "reserve"})
        if "budget" not in body:
            raise _fail(pools, name, f"pools.{name}: budget is required (e.g. 12g)")
        pool = Pool(
            name=name,
            budget=_value(body, "budget", f"pools.{name}", parse_bytes),
            tiers=tuple(sorted(_value(body, "tiers", f"pools.{name}", _tiers))) if "tiers" in body else (),
            reserve=_value(body, "reserve", f"pools.{name}", _bool) if "reserve" in body else False,
        )
        if pool.reserve and pool.tiers:
            raise _fail(body, "tiers", f"pools.{name}: a reserve pool cannot have tiers")
        for tier in pool.tiers:
            if tier in claimed:
                raise _fail(body, "tiers", f"pools.{name}: tier {tier!r} already draws from {claimed[tier]}")
            claimed[tier] = name
        result.append(pool)
    return tuple(result)


def _parse_affinity(node: object) -> dict[str, Any]:
    body = _mapping(node, "lint.cpu_affinity", {"reference_cores", "host_cores", "tiers"})
    out: dict[str, Any] = {}
    if "reference_cores" in body:
        out["reference_cores"] = _value(body, "reference_cores", "lint.cpu_affinity", _int) or 1
    if "host_cores" in body:
        out["host_cores"] = _value(body, "host_cores", "lint.cpu_affinity", _host_cores)
    if "tiers" in body:
        tiers = _mapping(body["tiers"], "lint.cpu_affinity.tiers", set(TIERS))
        out["cpu_affinity"] = {t: _value(tiers, t, "lint.cpu_affinity.tiers", parse_cpuset) for t in tiers}
    return out


def _parse_port_ranges(node: object) -> dict[str, tuple[PortRange, ...]]:
    body = _mapping(node, "lint.port_ranges", {*TIERS, ANY_TIER})
    return {
        tier: _value(body, tier, "lint.port_ranges", lambda v: tuple(parse_port_range(i) for i in _list(v)))
        for tier in body
    }


def _parse_service_tiers(node: object) -> dict[str, str]:
    body = _mapping(node, "lint.service_tiers")
    return {name: _value(body, name, "lint.service_tiers", _tier) for name in body}


def _tier(value: object) -> str:
    if value not in TIERS:
        raise ValueError(f"unknown tier {value!r} (tiers: {', '.join(TIERS)})")
    return str(value)


def _spec(node: object, name: str, base: T, parsers: Mapping[str, Callable[[Any], Any]]) -> T:
    body = _mapping(node, name, set(parsers))
    return replace(base, **{k: _value(body, k, name, parsers[k]) for k in body})  # type: ignore[type-var]


def parse_config(document: object) -> LintConfig:
    """Build the configuration from a loaded slas.yaml (only ``labels:``, ``pools:`` and ``lint:`` are read)."""
    if document is None:
        return LintConfig()
    top = _mapping(document, "slas.yaml")
    config = LintConfig()
    if "labels" in top:
        names = {f.name: _label_name for f in fields(StackLabels)}
        config = replace(config, labels=_spec(top["labels"], "labels", StackLabels(), names))
    if "pools" in top:
        config = replace(config, pools=_parse_pools(top["pools"]))
    if "lint" not in top:
        return config
    lint = _mapping(top["lint"], "lint", set(_LINT_KEYS))
    changes: dict[str, Any] = {}
    for key in lint:
        changes.update(_LINT_KEYS[key](lint, key, config))
    return replace(config, **changes)


def _label_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a label name, got {value!r}")
    return value


def _simple(attr: str, parse: Callable[[Any], Any]) -> Callable[[LinedDict, str, LintConfig], dict[str, Any]]:
    return lambda lint, key, _config: {attr: _value(lint, key, "lint", parse)}


_LINT_KEYS: dict[str, Callable[[LinedDict, str, LintConfig], dict[str, Any]]] = {
    "memory_reservation_ratio": _simple("memory_reservation_ratio", _ratio),
    "cpu_reservation_ratio": _simple("cpu_reservation_ratio", _ratio),
    "cpu_affinity": lambda lint, key, _config: _parse_affinity(lint[key]),
    "healthcheck": lambda lint, key, config: {
        "healthcheck": _spec(
            lint[key],
            "lint.healthcheck",
            config.healthcheck,
            {
                "interval": parse_duration,
                "timeout": parse_duration,
                "retries": _int,
                "start_period": parse_duration,
            },
        )
    },
    "restart": lambda lint, key, config: {
        "restart": _spec(
            lint[key],
            "lint.restart",
            config.restart,
            {"max_attempts": _int, "delay": parse_duration, "window": parse_duration},
        )
    },
    "publish_on_loopback": _simple("publish_on_loopback", lambda v: frozenset(_strings(v))),
    "service_tiers": lambda lint, key, _config: {"service_tiers": _parse_service_tiers(lint[key])},
    "port_ranges": lambda lint, key, _config: {"port_ranges": _parse_port_ranges(lint[key])},
    "forbidden_ports": _simple("forbidden_ports", _ports),
    "gateway_only_ports": _simple("gateway_only_ports", _ports),
    "http_tiers": _simple("http_tiers", _tiers),
    "secret_names": _simple("secret_names", _regex),
    "ollama": lambda lint, key, config: {
        "ollama": _spec(
            lint[key],
            "lint.ollama",
            config.ollama,
            {
                "match": _strings,
                "num_parallel_max": _int,
                "max_loaded_models_max": _int,
                "cpu_limit": _number,
            },
        )
    },
    "claude": lambda lint, key, config: {
        "claude": _spec(
            lint[key], "lint.claude", config.claude, {"match": _strings, "instance_memory_max": parse_bytes}
        )
    },
}


def load_config(path: str | Path | None) -> LintConfig:
    """The configuration from ``path`` (slas.yaml), or the rules document's defaults when None."""
    if path is None:
        return LintConfig()
    return parse_config(load_file(path))
