"""The merged compose project as typed, located values: what the rules judge.

Every value carries the file:line where its winning definition was written. A value Compose itself
would reject (a size that is not a size, a service that is not a mapping) is an ``InputError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.errors import InputError
from harness.lint.compose_cli import SERVICE_KEYS, ComposeCli
from harness.lint.config import TIERS, LintConfig
from harness.lint.dockerfile import ImageUser, image_user
from harness.lint.fields import Located, as_text, integer, mapping_field, parse_field, sequence_field
from harness.lint.limits import resolve_limits
from harness.lint.merge import Loc, item_loc, key_loc
from harness.lint.mounts import Mount, parse_mount
from harness.lint.units import (
    PortRange,
    PortSpec,
    parse_cpuset,
    parse_duration,
    parse_port_range,
    parse_port_short,
)
from harness.yamlsource import LinedDict, LinedList

T = TypeVar("T")

SUPPRESS_KEY = "x-lint-suppress"


@dataclass(frozen=True, slots=True)
class Healthcheck:
    loc: Loc
    disabled: bool
    test: Located[str] | None  # the command as one string ("NONE" disables too)
    interval: Located[float] | None
    timeout: Located[float] | None
    retries: Located[int] | None
    start_period: Located[float] | None


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    loc: Loc
    condition: Located[str] | None
    max_attempts: Located[int] | None
    delay: Located[float] | None
    window: Located[float] | None


@dataclass(frozen=True, slots=True)
class Dependency:
    service: str
    condition: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str
    reason: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    loc: Loc
    image: str | None
    tier: Located[str]
    tier_inferred: str | None  # why, when the tier was not labelled
    pool: Located[str] | None
    mem_limit: Located[int] | None
    mem_reservation: Located[int] | None
    cpu_limit: Located[float] | None
    cpu_reservation: Located[float] | None
    discarded: tuple[Located[str], ...]  # resource values the chosen Compose CLI drops (rule 1.1 says so)
    cpuset: Located[frozenset[int]] | None
    healthcheck: Healthcheck | None
    restart: Located[str] | None
    restart_policy: RestartPolicy | None
    replicas: int
    depends_on: tuple[Dependency, ...]
    ports: tuple[Located[PortSpec], ...]
    expose: tuple[Located[PortRange], ...]
    environment: Mapping[str, Located[str | None]]
    networks: tuple[Located[str], ...]
    network_mode: Located[str] | None
    user: Located[str] | None
    image_user: ImageUser | None  # USER of the local Dockerfile, when the service builds one
    command: str  # command and entrypoint as text, for recognising HTTP servers
    command_loc: Loc  # where the command (else the entrypoint, else the service) is written
    volumes: tuple[Located[Mount], ...]
    suppressions: tuple[Suppression, ...]

    def tier_note(self) -> str:
        """Appended to messages that depend on an inferred tier, so the reader knows to label it."""
        return f" [tier {self.tier_inferred}]" if self.tier_inferred else ""


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    loc: Loc
    internal: bool
    external: bool


@dataclass(frozen=True, slots=True)
class ComposeModel:
    files: tuple[str, ...]
    services: tuple[Service, ...]
    networks: Mapping[str, Network]

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)


# --- building ---------------------------------------------------------------------------------


def _command_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Words that name a tier, matched at the start of a word of the image or service name
# ("postgresql", "node-exporter", "redis-stack"; not "hongkong").
_INFERENCE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gateway", _words("kong haproxy nginx traefik envoy caddy apisix gateway")),
    (
        "monitoring",
        _words("prometheus grafana alertmanager cadvisor exporter loki promtail jaeger pushgateway monitor"),
    ),
    (
        "infrastructure",
        _words(
            "postgres redis rabbitmq mysql mariadb mongo consul kafka zookeeper etcd elasticsearch minio neo4j "
            "qdrant chroma vault memcached nats toxiproxy faultproxy"
        ),
    ),
    ("critical", ("ollama",)),
)


def _image_name(image: str | None) -> str:
    if not image:
        return ""
    name = image.rsplit("/", 1)[-1]
    return name.split("@", 1)[0].split(":", 1)[0].lower()


def infer_tier(
    name: str, image: str | None, environment: Mapping[str, Located[str | None]], tier_label: str
) -> tuple[str, str]:
    """A tier for a service without the label, and why (image first, then name, then its priority).

    Never the gateway: the gateway is exempt from rules 3.2, 5.1, 5.2, 9.1 and 12.2, and a name must not
    grant that. A service named like one is judged as infrastructure (the gateway's default pool)."""
    for source, text in (("image", _image_name(image)), ("name", name.lower())):
        if not text:
            continue
        tokens = re.split(r"[^a-z0-9]+", text)
        for tier, words in _INFERENCE:
            word = next((w for w in words if any(t.startswith(w) for t in tokens)), None)
            if word and tier == "gateway":
                return "infrastructure", (
                    f"inferred from {source} {word!r} as infrastructure, not the gateway: label it "
                    f"{tier_label}: gateway"
                )
            if word:
                return tier, f"inferred from {source} {word!r}"
    for key in ("PRIORITY", "PHASE_PRIORITY", "AGENT_PRIORITY"):
        env = environment.get(key)
        if env is not None and str(env.value).lower() == "critical":
            return "critical", f"inferred from {key}=critical"
    return "standard", "inferred: application service"


def _environment(service: LinedDict, what: str) -> dict[str, Located[str | None]]:
    env = mapping_field(service, "environment", what)
    result: dict[str, Located[str | None]] = {}
    for key, value in env.items():
        if isinstance(value, LinedDict | LinedList):
            loc = key_loc(env, key)
            raise InputError(loc.file, loc.line, f"{what}.environment.{key} must be a string or number")
        result[key] = Located(
            None if value is None else (value if isinstance(value, str) else str(value)), key_loc(env, key)
        )
    return result


def _healthcheck(service: LinedDict, what: str) -> Healthcheck | None:
    if "healthcheck" not in service:
        return None
    hc = mapping_field(service, "healthcheck", what)
    where = f"{what}.healthcheck"
    test = parse_field(hc, "test", where, _command_text)
    disabled = bool(hc.get("disable")) or (test is not None and test.value.strip().upper() == "NONE")
    return Healthcheck(
        loc=key_loc(service, "healthcheck"),
        disabled=disabled,
        test=test,
        interval=parse_field(hc, "interval", where, parse_duration),
        timeout=parse_field(hc, "timeout", where, parse_duration),
        retries=parse_field(hc, "retries", where, integer),
        start_period=parse_field(hc, "start_period", where, parse_duration),
    )


def _restart_policy(deploy: LinedDict, what: str) -> RestartPolicy | None:
    if "restart_policy" not in deploy:
        return None
    policy = mapping_field(deploy, "restart_policy", f"{what}.deploy")
    where = f"{what}.deploy.restart_policy"
    return RestartPolicy(
        loc=key_loc(deploy, "restart_policy"),
        condition=parse_field(policy, "condition", where, as_text),
        max_attempts=parse_field(policy, "max_attempts", where, integer),
        delay=parse_field(policy, "delay", where, parse_duration),
        window=parse_field(policy, "window", where, parse_duration),
    )


CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


def _depends_on(service: LinedDict, what: str) -> tuple[Dependency, ...]:
    deps = mapping_field(service, "depends_on", what)
    result = []
    for name, spec in deps.items():
        loc = key_loc(deps, name)
        condition = "service_started"
        if isinstance(spec, LinedDict):
            condition = str(spec.get("condition", condition))
            if spec.get("condition") is not None:
                loc = key_loc(spec, "condition")
        elif spec is not None:
            raise InputError(loc.file, loc.line, f"{what}.depends_on.{name} must be a mapping")
        if condition not in CONDITIONS:
            raise InputError(
                loc.file,
                loc.line,
                f"{what}.depends_on.{name}.condition: unknown condition {condition!r} "
                f"(Compose knows {', '.join(CONDITIONS)})",
            )
        result.append(Dependency(name, condition, key_loc(deps, name)))
    return tuple(result)


def _check_keys(service: LinedDict, what: str, cli: ComposeCli) -> None:
    known = SERVICE_KEYS[cli]
    for key in service:
        if key not in known and not str(key).startswith("x-"):
            loc = key_loc(service, key)
            raise InputError(
                loc.file, loc.line, f"{what}: unknown service key {key!r} (docker compose {cli} refuses it)"
            )


def _port(item: object) -> PortSpec:
    if isinstance(item, LinedDict):
        if "target" not in item:
            raise ValueError("long-syntax port needs a target")
        published = item.get("published")
        return PortSpec(
            host_ip=str(item["host_ip"]) if item.get("host_ip") else None,
            published=parse_port_range(published) if published not in (None, "") else None,
            target=parse_port_range(item["target"]),
            protocol=str(item.get("protocol") or "tcp"),
        )
    if isinstance(item, (LinedList, bool)):
        raise ValueError(f"not a port mapping: {item!r}")
    return parse_port_short(item)


def _located_items(
    service: LinedDict, key: str, what: str, parse: Callable[[Any], T]
) -> tuple[Located[T], ...]:
    items = sequence_field(service, key, what)
    result = []
    for index, item in enumerate(items):
        loc = item_loc(items, index)
        try:
            result.append(Located(parse(item), loc))
        except (ValueError, TypeError) as exc:
            raise InputError(loc.file, loc.line, f"{what}.{key}: {exc}") from None
    return tuple(result)


def _expose(item: object) -> PortRange:
    return parse_port_range(str(item).split("/", 1)[0])


def _suppressions(service: LinedDict, what: str) -> tuple[Suppression, ...]:
    """``x-lint-suppress: [{rule: "5.2", reason: "..."}]``; a missing reason is kept as "" (an error)."""
    if SUPPRESS_KEY not in service:
        return ()
    entries = sequence_field(service, SUPPRESS_KEY, what)
    result = []
    for index, entry in enumerate(entries):
        loc = item_loc(entries, index)
        if not isinstance(entry, LinedDict) or "rule" not in entry:
            raise InputError(loc.file, loc.line, f"{what}.{SUPPRESS_KEY}: each entry needs rule and reason")
        unknown = set(entry) - {"rule", "reason"}
        if unknown:
            raise InputError(loc.file, loc.line, f"{what}.{SUPPRESS_KEY}: unknown key {sorted(unknown)[0]!r}")
        reason = entry.get("reason")
        result.append(Suppression(str(entry["rule"]), "" if reason is None else str(reason).strip(), loc))
    return tuple(result)


def _label(labels: LinedDict, key: str) -> Located[str] | None:
    value = labels.get(key)
    return None if value is None else Located(str(value).strip(), key_loc(labels, key))


def _tier(
    name: str,
    labels: LinedDict,
    image: str | None,
    environment: Mapping[str, Located[str | None]],
    loc: Loc,
    config: LintConfig,
) -> tuple[Located[str], str | None]:
    """The service's tier and, when it was inferred, why: its label, else lint.service_tiers, else inferred."""
    label = _label(labels, config.labels.tier)
    if label is not None:
        if label.value not in TIERS:
            raise InputError(
                label.loc.file,
                label.loc.line,
                f"services.{name}: label {config.labels.tier}={label.value!r} is not a tier ({', '.join(TIERS)})",
            )
        return label, None
    if name in config.service_tiers:
        return Located(config.service_tiers[name], loc), None
    value, why = infer_tier(name, image, environment, config.labels.tier)
    return Located(value, loc), why


def build_service(name: str, service: object, loc: Loc, config: LintConfig) -> Service:
    what = f"services.{name}"
    if not isinstance(service, LinedDict):
        raise InputError(loc.file, loc.line, f"{what} must be a mapping")
    _check_keys(service, what, config.compose)
    deploy = mapping_field(service, "deploy", what)
    limits = resolve_limits(service, what, config.compose)
    image = parse_field(service, "image", what, as_text)
    environment = _environment(service, what)
    labels = mapping_field(service, "labels", what)

    tier, tier_inferred = _tier(name, labels, image.value if image else None, environment, loc, config)
    pool = _label(labels, config.labels.pool)
    if pool is None:
        from_tier = config.pool_for_tier(tier.value)
        pool = Located(from_tier, tier.loc) if from_tier else None

    networks = mapping_field(service, "networks", what)
    return Service(
        name=name,
        loc=loc,
        image=image.value if image else None,
        tier=tier,
        tier_inferred=tier_inferred,
        pool=pool,
        mem_limit=limits.mem_limit,
        mem_reservation=limits.mem_reservation,
        cpu_limit=limits.cpu_limit,
        cpu_reservation=limits.cpu_reservation,
        discarded=limits.discarded,
        cpuset=parse_field(service, "cpuset", what, parse_cpuset),
        healthcheck=_healthcheck(service, what),
        restart=parse_field(service, "restart", what, as_text),
        restart_policy=_restart_policy(deploy, what),
        replicas=limits.replicas,
        depends_on=_depends_on(service, what),
        ports=_located_items(service, "ports", what, _port),
        expose=_located_items(service, "expose", what, _expose),
        environment=environment,
        networks=tuple(Located(str(n), key_loc(networks, n)) for n in networks),
        network_mode=parse_field(service, "network_mode", what, as_text),
        user=parse_field(service, "user", what, as_text),
        image_user=image_user(service) if "user" not in service else None,
        command=" ".join(_command_text(service.get(k)) for k in ("entrypoint", "command")).strip(),
        command_loc=next((key_loc(service, k) for k in ("command", "entrypoint") if k in service), loc),
        volumes=_located_items(service, "volumes", what, parse_mount),
        suppressions=_suppressions(service, what),
    )


def build_networks(document: LinedDict) -> dict[str, Network]:
    networks = mapping_field(document, "networks", "")
    result = {}
    for name, spec in networks.items():
        loc = key_loc(networks, name)
        if spec is not None and not isinstance(spec, LinedDict):
            raise InputError(loc.file, loc.line, f"networks.{name} must be a mapping")
        spec = spec or {}
        external = spec.get("external")
        result[name] = Network(
            name=name,
            loc=loc,
            internal=spec.get("internal") is True or str(spec.get("internal")).lower() == "true",
            external=bool(external) and str(external).lower() != "false",
        )
    return result
