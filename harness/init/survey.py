"""What a stack's compose files say, as `harness init` needs it: each service's role and why.

The files are read by the lint's loader (merged like ``compose -f A -f B``, YAML safety, ``.env``
interpolation), so a broken file is the same one-line ``InputError`` as in ``harness lint``. Roles are
guessed from words in the image name, the service name and the label values, in that order; the tier is
the lint's own (its label, else inferred).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.errors import InputError
from harness.lint.config import LintConfig
from harness.lint.loader import build_model, merge_compose
from harness.lint.model import Service
from harness.lint.rules.ports import serves_http
from harness.yamlsource import load_file

Role = Literal[
    "faultproxy", "prometheus", "pushgateway", "gateway", "dependency", "monitoring", "application"
]

# Words matched at the start of a word of the image, the name or a label value ("postgresql", "redis-stack").
# The first match wins, so the specific words come before "gateway".
_ROLE_WORDS: tuple[tuple[Role, str, tuple[str, ...]], ...] = (
    ("faultproxy", "fault proxy", ("toxiproxy", "faultproxy")),
    ("pushgateway", "Pushgateway", ("pushgateway",)),
    ("prometheus", "Prometheus", ("prometheus",)),
    ("gateway", "gateway", ("kong", "haproxy", "nginx", "traefik", "envoy", "caddy", "apisix", "gateway")),
    (
        "dependency",
        "database",
        (
            "postgres",
            "mysql",
            "mariadb",
            "mongo",
            "neo4j",
            "elasticsearch",
            "opensearch",
            "qdrant",
            "chroma",
            "cassandra",
            "clickhouse",
            "influxdb",
        ),
    ),
    ("dependency", "cache", ("redis", "memcached", "valkey", "keydb")),
    ("dependency", "message broker", ("rabbitmq", "kafka", "nats", "zookeeper", "mosquitto")),
    ("dependency", "model server", ("ollama", "vllm", "localai")),
    ("dependency", "service registry", ("consul", "etcd")),
    ("dependency", "object store", ("minio",)),
    ("dependency", "secret store", ("vault",)),
)
_HTTP_URL = re.compile(r"https?://[^/\s\"']+(/[^\s\"'?#]*)")
TOXIPROXY_API_PORT = 8474
APPLICATION_TIERS = ("critical", "standard")
"""Tiers whose HTTP services are judged on rule 8.1 (infrastructure, monitoring and the gateway seldom
export the ``http_request_duration_seconds`` histogram the response-time analyzer reads)."""


@dataclass(frozen=True, slots=True)
class Guess:
    value: str
    why: str  # what it was inferred from, for the output's comment


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    name: str
    tier: str
    tier_why: str
    role: Role
    role_why: str  # e.g. "cache, from image 'redis'"
    http_why: str | None  # why it looks like an HTTP server, or None
    health_path: str | None  # the path its HTTP healthcheck probes
    health_timing: tuple[tuple[str, float], ...]  # (interval, timeout, retries, start_period) as far as set
    depends_on: tuple[str, ...]
    endpoint: Guess | None  # the URL the host reaches it at, from its published ports
    loopback_only: bool  # it publishes ports, on 127.0.0.0/8 only

    @property
    def judged_on_http(self) -> bool:
        return self.http_why is not None and self.tier in APPLICATION_TIERS


@dataclass(frozen=True, slots=True)
class Survey:
    files: tuple[str, ...]
    services: tuple[ServiceFacts, ...]  # sorted by name
    service_label: Guess | None  # the Prometheus label naming compose services

    def with_role(self, role: Role) -> list[ServiceFacts]:
        return [s for s in self.services if s.role == role]

    def first_reachable(self, role: Role) -> ServiceFacts | None:
        """The first service of ``role`` that publishes a port (the one the harness can reach)."""
        return next((s for s in self.with_role(role) if s.endpoint), None)

    def service(self, name: str) -> ServiceFacts:
        return next(s for s in self.services if s.name == name)


def survey(paths: Sequence[str], environ: Mapping[str, str] | None = None) -> Survey:
    config = LintConfig()  # compose v2's keys: the output must not depend on the machine's Compose CLI
    merged = merge_compose(paths, os.environ if environ is None else environ)
    model = build_model(paths, merged, config)
    raw = merged["services"]
    services = tuple(sorted((_facts(s, raw[s.name], config) for s in model.services), key=lambda f: f.name))
    base = Path(paths[0]).parent
    prometheus = next((raw[s.name] for s in services if s.role == "prometheus"), None)
    label = _service_label(prometheus, base, {s.name for s in services}) if prometheus else None
    return Survey(tuple(paths), services, label)


def _facts(service: Service, raw: Mapping[str, Any], config: LintConfig) -> ServiceFacts:
    labels = raw.get("labels") or {}
    tier_why = f"label {config.labels.tier}" if not service.tier_inferred else service.tier_inferred
    role, role_why = _role(service, labels, config.labels.tier)
    test = service.healthcheck.test.value if service.healthcheck and service.healthcheck.test else ""
    path = _HTTP_URL.search(test)
    return ServiceFacts(
        name=service.name,
        tier=service.tier.value,
        tier_why=tier_why,
        role=role,
        role_why=role_why,
        http_why=serves_http(service, config),
        health_path=path.group(1) if path else None,
        health_timing=_timing(service),
        depends_on=tuple(sorted(d.service for d in service.depends_on)),
        endpoint=_endpoint(service, role),
        loopback_only=bool(service.ports)
        and all((p.value.host_ip or "").startswith("127.") for p in service.ports),
    )


def _timing(service: Service) -> tuple[tuple[str, float], ...]:
    check = service.healthcheck
    if check is None or check.disabled:
        return ()
    fields = {"interval": check.interval, "timeout": check.timeout, "retries": check.retries}
    fields["start_period"] = check.start_period
    return tuple((name, float(field.value)) for name, field in fields.items() if field is not None)


def _role(service: Service, labels: Mapping[str, Any], tier_label: str) -> tuple[Role, str]:
    if service.tier.value == "gateway" and not service.tier_inferred:
        return "gateway", f"label {tier_label}: gateway"
    image = (service.image or "").rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    sources = [("image", image), ("name", service.name), *(("label", str(v)) for v in labels.values())]
    for source, text in sources:
        tokens = re.split(r"[^a-z0-9]+", text.lower())
        for role, kind, words in _ROLE_WORDS:
            word = next((w for w in words if any(t.startswith(w) for t in tokens)), None)
            if word:
                return role, f"{kind}, from {source} {word!r}"
    if service.tier.value == "infrastructure":
        return "dependency", f"infrastructure tier ({service.tier_inferred or 'label ' + tier_label})"
    if service.tier.value == "monitoring":
        return "monitoring", "monitoring tier"
    return "application", "application service"


def _endpoint(service: Service, role: Role) -> Guess | None:
    """The published port the host reaches: the one serving $PORT, else Toxiproxy's API, else the first."""
    published = [p.value for p in service.ports if p.value.published is not None]
    if not published:
        return None
    port_env = service.environment.get("PORT")
    port_text = str(port_env.value) if port_env else ""
    wanted = {int(port_text)} if port_text.isdigit() else set()
    if role == "faultproxy":
        wanted.add(TOXIPROXY_API_PORT)
    chosen = next((p for p in published if p.target.low in wanted), published[0])
    assert chosen.published is not None
    host = chosen.host_ip if chosen.host_ip and chosen.host_ip.startswith("127.") else "127.0.0.1"
    port = chosen.published.low
    return Guess(f"http://{host}:{port}", f"from ports of {service.name} ({port}:{chosen.target.low})")


def _service_label(prometheus: Mapping[str, Any], base: Path, names: set[str]) -> Guess | None:
    """The label Prometheus's static targets name compose services by, read from its configuration file
    (a bind-mounted prometheus.yml, or one in its build context), and the file it came from."""
    for path in sorted(_config_files(prometheus, base)):
        try:
            config = load_file(path)
        except InputError:
            continue  # a guess only: an unreadable file leaves the default
        counts: dict[str, int] = {}
        for target in _static_configs(config):
            for label, value in target.items():
                counts[label] = counts.get(label, 0) + (value in names)
        best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if best and best[0][1] > 0:
            shown = os.path.relpath(path, base)
            return Guess(best[0][0], f"from static_configs labels in {shown}")
    return None


def _static_configs(config: object) -> list[dict[str, Any]]:
    """The ``labels`` of every static target group, skipping whatever is not shaped like Prometheus's."""
    jobs = config.get("scrape_configs") if isinstance(config, dict) else None
    groups = [g for job in jobs or [] if isinstance(job, dict) for g in job.get("static_configs") or []]
    return [g["labels"] for g in groups if isinstance(g, dict) and isinstance(g.get("labels"), dict)]


def _config_files(prometheus: Mapping[str, Any], base: Path) -> set[Path]:
    found: set[Path] = set()
    for volume in prometheus.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":", 1)[0]
        if source and re.search(r"prometheus[^/]*\.ya?ml$", str(source)):
            found.add(base / str(source))
    build = prometheus.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    if context:
        found |= {base / str(context) / name for name in ("prometheus.yml", "prometheus.yaml")}
    return {path for path in found if path.is_file()}
