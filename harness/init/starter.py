"""The starter catalogue's text: defaults, one kill/pause/slow scenario set per dependency, the objectives.

Values follow the reference catalogue (slas.yaml) where the compose files say nothing, so a stack shaped
like the reference one is judged as the reference one is. Every guessed value ends its line with a comment
saying what it was inferred from; everything is sorted, so the same files always give the same text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from harness.init.budgets import lint_sections
from harness.init.survey import Guess, ServiceFacts, Survey

REFERENCE = "default: like the reference catalogue"
SLOW_LATENCY_MS = 5000
"""The slow scenario's added latency: past the 2 s dependency timeouts the rules' agents use (10.3)."""


@dataclass(frozen=True, slots=True)
class _Fault:
    suffix: str
    kind: str
    says: str  # the description's verb phrase


_FAULTS = (
    _Fault("kill", "container_kill", "killed (SIGKILL) under load"),
    _Fault("pause", "container_pause", "frozen (docker pause) under load"),
    _Fault(
        "slow", "proxy_latency", f"slowed to {SLOW_LATENCY_MS / 1000:g} s per answer through the fault proxy"
    ),
)


def starter_catalogue(survey: Survey) -> str:
    lines = [
        "# A starter SLA catalogue, written by `python -m harness init` from:",
        *(f"#   {path}" for path in survey.files),
        "# Every guessed value says on its line what it was inferred from: check each one, then",
        "# `python -m harness slas --slas THIS_FILE` and `python -m harness lint --slas THIS_FILE COMPOSE...`.",
        "# Schema: docs/slas.md; how each value is guessed: docs/init.md.",
        "version: 1",
        "",
        *_defaults(survey),
        "",
        *_Scenarios(survey).lines(),
        "",
        *_Objectives(survey).lines(),
        "",
        *lint_sections(survey),
    ]
    return "\n".join(lines) + "\n"


def scalar(text: str) -> str:
    """``text`` as a YAML scalar that reads back as this string (a name like ``true`` or ``1e3`` is quoted)."""
    return text if yaml.safe_load(f"k: {text}") == {"k": text} else json.dumps(text)


def ident(*parts: str) -> str:
    """A scenario name or objective id from compose names, which may hold capitals or start with '.'/'_'."""
    return re.sub(r"^[^a-z0-9]+", "", "-".join(parts).lower())


def _promql(matchers: str) -> str:
    """Label matchers single-quoted, as the reference catalogue writes them (their values use ")."""
    return "'" + matchers.replace("'", "''") + "'"


def _http_why(service: ServiceFacts) -> str:
    if service.http_why and service.http_why.startswith("tier "):
        return f"tier {service.tier} ({service.tier_why}) serves HTTP"
    return f"{service.http_why} (tier {service.tier}: {service.tier_why})"


def _comment(line: str, why: str) -> str:
    return f"{line}  # {why}"


def _defaults(survey: Survey) -> list[str]:
    prometheus = survey.first_reachable("prometheus")
    label = survey.service_label or Guess(
        "job", "default: Prometheus's job label (no static_configs labels naming the services found)"
    )
    return [
        "defaults:",
        "  prometheus:",
        _comment(f"    url: {_url(prometheus, 'http://127.0.0.1:10400')}", _why(prometheus, "Prometheus")),
        _comment("    scrape_interval: 1s", f"{REFERENCE} (breakers need a scrape at least every 2 s)"),
        _comment("    query_timeout: 10s", REFERENCE),
        "  endpoints:  # what the harness reaches on the host, loopback only",
        *_endpoints(survey),
        _comment(f"  service_label: {scalar(label.value)}", label.why),
        "  load_bounds:  # no scenario may ask for more",
        _comment("    max_users: 50", REFERENCE),
        _comment("    max_rate: 100", f"{REFERENCE} (requests per second, all users together)"),
        _comment("    max_duration: 10m", REFERENCE),
        "  load:",
        _comment("    users: 10", REFERENCE),
        _comment("    spawn_rate: 10", REFERENCE),
        _comment("    rate: 20", REFERENCE),
        "  # fault >= the breakers' half-open delay (30 s, rule 3.4) + tolerance, so the first open -> half-open",
        "  # cycle is seen under the fault; recovery >= another cycle, so the breakers can close.",
        "  windows:",
        _comment("    steady: 20s", REFERENCE),
        _comment("    fault: 45s", REFERENCE),
        _comment("    recovery: 40s", REFERENCE),
        _comment("  min_scrapes_per_window: 4", REFERENCE),
    ]


def _endpoints(survey: Survey) -> list[str]:
    gateway = survey.first_reachable("gateway")
    proxy = survey.first_reachable("faultproxy")
    pushgateway = survey.first_reachable("pushgateway")
    push_url = pushgateway.endpoint.value if pushgateway and pushgateway.endpoint else '""'
    return [
        _comment(f"    gateway: {_url(gateway, 'http://127.0.0.1:8080')}", _why(gateway, "gateway")),
        _comment(
            f"    faultproxy: {_url(proxy, 'http://127.0.0.1:8474')}",
            _why(proxy, "fault proxy", "Toxiproxy's API port"),
        ),
        _comment(
            f"    pushgateway: {push_url}",
            _why(pushgateway, "Pushgateway", "empty: the load's client-side metrics are not pushed"),
        ),
    ]


def _url(service: ServiceFacts | None, default: str) -> str:
    return service.endpoint.value if service and service.endpoint else default


def _why(service: ServiceFacts | None, what: str, default: str = "the harness's") -> str:
    if service and service.endpoint:
        return f"{service.endpoint.why}: {service.role_why}"
    return f"default: {default} (no published {what} service in the compose files)"


class _Scenarios:
    """``baseline``, then per dependency (sorted) its kill, pause and slow scenarios."""

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.proxy = survey.first_reachable("faultproxy") or next(iter(survey.with_role("faultproxy")), None)

    def names(self, dependency: ServiceFacts) -> list[str]:
        """The scenarios written (not commented out) for ``dependency``."""
        faults = _FAULTS if self.proxy else _FAULTS[:2]
        return [ident(dependency.name, fault.suffix) for fault in faults]

    def lines(self) -> list[str]:
        lines = [
            "scenarios:",
            "  baseline:",
            "    description: Steady load, no fault",
            _comment("    windows: {steady: 40s}", REFERENCE),
        ]
        for dependency in self.survey.with_role("dependency"):
            users = [s.name for s in self.survey.services if dependency.name in s.depends_on]
            used = f"; depends_on of {', '.join(users)}" if users else "; nothing depends_on it"
            lines += [
                "",
                f"  # {dependency.name}: {dependency.role_why} (tier {dependency.tier}: {dependency.tier_why}){used}",
            ]
            for fault in _FAULTS:
                lines += self._scenario(dependency, fault)
        return lines

    def _scenario(self, dependency: ServiceFacts, fault: _Fault) -> list[str]:
        name = dependency.name
        extra = f", latency: {SLOW_LATENCY_MS}" if fault.kind == "proxy_latency" else ""
        body = [
            f"  {ident(name, fault.suffix)}:",
            f"    description: {scalar(f'{name} {fault.says}')}",
            f"    fault: {{kind: {fault.kind}, target: {scalar(name)}{extra}}}",
        ]
        if fault.kind != "proxy_latency":
            return body
        if self.proxy is None:
            return [
                "  # Needs a fault proxy (Toxiproxy, or this project's faultproxy) in front of "
                f"{name}; the stack has none.",
                *(f"  #{line[1:]}" for line in body),
            ]
        body[-1] = _comment(
            body[-1], f"needs a proxy named {name} in {self.proxy.name}, between {name} and its users"
        )
        return body


class _Objectives:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.scenarios = _Scenarios(survey)
        self.faults = {
            d.name: self.scenarios.names(d) for d in survey.with_role("dependency")
        }  # dependency -> its scenarios
        self.all = ["baseline", *(name for names in self.faults.values() for name in names)]
        self.label = (survey.service_label or Guess("job", "")).value

    def lines(self) -> list[str]:
        lines = ["objectives:"]
        lines += self._response_times()
        lines += self._breakers()
        lines += self._no_cascade()
        lines += self._required_metrics()
        return lines

    def _scenario_list(self, names: list[str]) -> str:
        return "all" if names == self.all else "[" + ", ".join(names) + "]"

    def _selector(self, service: str, more: str = "") -> str:
        return _promql(f'{self.label}="{service}"' + (f", {more}" if more else ""))

    def _response_times(self) -> list[str]:
        lines = [
            "  # ---- rule 8.1: response times. Health: every HTTP service of an application tier (critical,"
        ]
        lines.append(
            "  # standard): infrastructure, monitoring and the gateway seldom export the histogram read here."
        )
        for service in (s for s in self.survey.services if s.judged_on_http):
            own = self.faults.get(service.name, [])
            scenarios = [name for name in self.all if name not in own]
            path = service.health_path or "/health"
            where = (
                f"from healthcheck of {service.name}"
                if service.health_path
                else "default: rule 8.1 (/health)"
            )
            lines += [
                "",
                f"  # {service.name}: {_http_why(service)}",
                f"  - id: {ident(service.name, 'health-latency')}",
                '    rule: "8.1"',
                f"    description: {scalar(f'{service.name} answers {path} in under 1 s, whatever is broken')}",
                _comment(f"    scenarios: {self._scenario_list(scenarios)}", "its own faults left out")
                if own
                else "    scenarios: all",
                "    window: whole",
                "    analyzer:",
                "      name: response_time",
                "      params:",
                _comment(
                    f"        selector: {self._selector(service.name, f'path={json.dumps(path)}')}", where
                ),
                _comment("        percentile: max", "default: rule 8.1"),
                _comment("        threshold: 1s", "default: rule 8.1"),
            ]
        return [*lines, "", *self._api_latency()]

    def _api_latency(self) -> list[str]:
        pushgateway = self.survey.first_reachable("pushgateway")
        head = [
            "  - id: api-latency",
            '    rule: "8.1"',
        ]
        if pushgateway:
            return [
                "  # API calls as the load generator sees them through the gateway: it pushes its client-side",
                f"  # metrics to {pushgateway.name} (from its ports)",
                *head,
                "    description: API calls through the gateway answer in under 5 s at p99, as the load generator sees them",
                "    scenarios: all",
                "    window: whole",
                "    analyzer:",
                "      name: response_time",
                "      params:",
                "        metric: locust_request_duration_seconds",
                "        selector: 'job=\"locust\"'",
                "        percentile: p99",
                _comment("        threshold: 5s", "default: rule 8.1"),
                "        by: []",
                "        rounding: 1ms  # Locust times with perf_counter, reported in ms",
                _comment("        min_observations: 50", REFERENCE),
            ]
        return [
            "  # API calls as the services' own histograms see them (no Pushgateway: no client-side metrics)",
            *head,
            "    description: Every service answers its API calls in under 5 s at p99",
            "    scenarios: all",
            "    window: whole",
            "    analyzer:",
            "      name: response_time",
            "      params:",
            _comment("        selector: 'path=~\"/api/.*\"'", "default: the no_cascade analyzer's API paths"),
            "        percentile: p99",
            _comment("        threshold: 5s", "default: rule 8.1"),
        ]

    def _breakers(self) -> list[str]:
        lines = [
            "",
            "  # ---- rule 3.4: circuit breakers, for every application service that depends_on a dependency",
        ]
        for service in self.survey.with_role("application"):
            for dependency in (d for d in service.depends_on if d in self.faults):
                lines += [
                    "",
                    f"  - id: {ident(service.name, 'breaker', dependency)}",
                    '    rule: "3.4"',
                    "    description: "
                    + scalar(
                        f"{service.name}'s breaker for {dependency} opens after 5 failures, serves fallbacks, "
                        "half-opens after 30 s, closes"
                    ),
                    _comment(
                        f"    scenarios: [{', '.join(self.faults[dependency])}]", f"{dependency}'s faults"
                    ),
                    "    window: whole",
                    "    analyzer:",
                    "      name: circuit_breaker",
                    "      params:",
                    _comment(
                        f"        dependency: {scalar(dependency)}", f"from depends_on of {service.name}"
                    ),
                    _comment(
                        f"        selector: {self._selector(service.name)}",
                        f"from depends_on of {service.name}",
                    ),
                    _comment("        failure_threshold: 5", "default: rule 3.4"),
                    _comment("        half_open_after: 30s", "default: rule 3.4"),
                    _comment("        tolerance: 2s", REFERENCE),
                ]
        return lines

    def _no_cascade(self) -> list[str]:
        faults = [name for names in self.faults.values() for name in names]
        if not faults:
            return []
        return [
            "",
            "  # ---- rule 10.3: failures do not cascade (the dependency graph: the compose files' depends_on)",
            "  - id: no-cascade",
            '    rule: "10.3"',
            "    description: Services that do not use the faulted dependency keep their SLAs; the others degrade gracefully",
            _comment(f"    scenarios: [{', '.join(faults)}]", "every fault scenario"),
            "    window: fault",
            "    analyzer:",
            "      name: no_cascade",
            "      params:",
            _comment("        api_selector: 'path=~\"/api/.*\"'", "default: rule 10.3"),
            _comment("        health_selector: 'path=\"/health\"'", "default: rule 10.3"),
            _comment("        api_threshold: 5s", "default: rule 8.1"),
            _comment("        health_threshold: 1s", "default: rule 8.1"),
            _comment("        independent_max_error_rate: 0.01", REFERENCE),
            _comment("        dependent_max_error_rate: 0.01", REFERENCE),
        ]

    def _required_metrics(self) -> list[str]:
        services = [s.name for s in self.survey.with_role("application") if s.judged_on_http]
        if not services:
            return []
        return [
            "",
            "  # ---- rule 7.1: the required metrics",
            "  - id: required-metrics",
            '    rule: "7.1"',
            "    description: Every application service exposes the metrics rule 7.1 requires",
            "    scenarios: [baseline]",
            "    window: steady",
            "    analyzer:",
            "      name: required_metrics",
            "      params:",
            _comment(
                f"        selector: {_promql(f'{self.label}=~' + json.dumps('|'.join(services)))}",
                "the HTTP services of application tiers above",
            ),
        ]
