"""slas.yaml -> ``Catalogue``. Every mistake is one ``InputError`` naming file:line and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.analyzers import ANALYZERS, PROMQL, AnalyzerSpec
from harness.catalogue.abort import read_abort
from harness.catalogue.grading import read_grading, read_total_score
from harness.catalogue.history import read_history, read_regression
from harness.catalogue.load_spec import LoadSpec, read_load
from harness.catalogue.model import (
    BURST_KINDS,
    BURST_LIMITS,
    CRASH_EXIT_CODE,
    FAULT_ATTRIBUTES,
    FAULT_KINDS,
    PARTITION,
    PARTITION_MODES,
    PRESSURE_KINDS,
    PRESSURE_LIMITS,
    STREAMS,
    Catalogue,
    Defaults,
    Endpoints,
    FaultSpec,
    LoadBounds,
    LoadLevel,
    Measurement,
    Objective,
    PartitionMode,
    PrometheusSettings,
    Scenario,
    WindowDurations,
)
from harness.catalogue.reader import Fields, item_line, read_dataclass, show
from harness.driver import DRIVERS, read_driver
from harness.errors import InputError
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.lint.units import format_bytes, parse_bytes
from harness.rules import RULES_DOCUMENT, SECTIONS, outline
from harness.verdict import SEVERITIES
from harness.windows import WINDOW_NAMES
from harness.yamlsource import load_file, load_text

VERSION = 1
LINT_SECTIONS = ("pools", "lint")
"""Top-level sections owned by the static lint: accepted here, validated there."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
"""A Prometheus label name: anything else would make every query of every objective invalid PromQL."""
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def load_catalogue(path: str | Path) -> Catalogue:
    return parse_catalogue(load_file(path), str(path))


def parse_text(text: str, path: str = "<string>") -> Catalogue:
    return parse_catalogue(load_text(text, path), path)


def parse_catalogue(document: Any, path: str) -> Catalogue:
    if document is None:
        raise InputError(path, None, "the file is empty: expected version, scenarios and objectives")
    top = Fields(document, "", path, 1)
    version = top.integer("version")
    if version != VERSION:
        raise top.error("version", f"unsupported version {version}: this harness reads version {VERSION}")
    for section in LINT_SECTIONS:
        top.raw(section, None)
    defaults_node = top.mapping("defaults")
    defaults = _defaults(defaults_node) if defaults_node else Defaults()
    scenarios = _scenarios(top.section("scenarios"), defaults)
    objectives = _objectives(top, scenarios)
    total_score = read_total_score(top)
    load_node, labels_node = top.mapping("load"), top.mapping("labels")
    load = read_load(load_node, path) if load_node else LoadSpec()
    labels = read_dataclass(StackLabels, labels_node) if labels_node else DEFAULT_LABELS
    suites = _suites(top, path)
    top.finish()
    return Catalogue(
        path, version, defaults, scenarios, objectives, total_score, load=load, labels=labels, suites=suites
    )


def _suites(top: Fields, catalogue_path: str) -> tuple[Path, ...]:
    """``suites:``, folders of scenario suites relative to slas.yaml, each one checked to exist."""
    folders = tuple(Path(catalogue_path).parent / name for name in top.strings("suites", ()))
    missing = next((f for f in folders if not f.is_dir()), None)
    if missing is not None:
        raise top.error("suites", f"no such folder: {missing}")
    return folders


def _defaults(node: Fields) -> Defaults:
    prometheus = node.mapping("prometheus")
    endpoints = node.mapping("endpoints")
    bounds = node.mapping("load_bounds")
    load = node.mapping("load")
    windows = node.mapping("windows")
    base = Defaults()
    defaults = Defaults(
        prometheus=_prometheus(prometheus) if prometheus else base.prometheus,
        endpoints=_endpoints(endpoints) if endpoints else base.endpoints,
        load_bounds=_bounds(bounds) if bounds else base.load_bounds,
        load=_load(load, base.load) if load else base.load,
        windows=_windows(windows, base.windows) if windows else base.windows,
        min_scrapes_per_window=node.integer("min_scrapes_per_window", base.min_scrapes_per_window, minimum=2),
        service_label=_label_name(node, "service_label", base.service_label),
        history=read_history(node, base.history),
        driver=read_driver(node),
    )
    node.finish()
    return defaults


def _label_name(node: Fields, key: str, default: str) -> str:
    label = node.string(key, default)
    if not _LABEL.match(label):
        raise node.error(key, f"expected a Prometheus label name (letters, digits, '_'), got {show(label)}")
    return label


def _endpoints(node: Fields) -> Endpoints:
    base = Endpoints()
    endpoints = Endpoints(
        gateway=node.url("gateway", base.gateway),
        faultproxy=node.url("faultproxy", base.faultproxy),
        pushgateway=node.url("pushgateway", base.pushgateway),
    )
    node.finish()
    return endpoints


def _prometheus(node: Fields) -> PrometheusSettings:
    base = PrometheusSettings()
    settings = PrometheusSettings(
        url=node.url("url", base.url),
        scrape_interval=node.duration("scrape_interval", base.scrape_interval),
        query_timeout=node.duration("query_timeout", base.query_timeout),
    )
    node.finish()
    return settings


def _bounds(node: Fields) -> LoadBounds:
    base = LoadBounds()
    bounds = LoadBounds(
        max_users=node.integer("max_users", base.max_users, minimum=1),
        max_rate=node.number("max_rate", base.max_rate, minimum=0.001),
        max_duration=node.duration("max_duration", base.max_duration),
    )
    node.finish()
    return bounds


def _load(node: Fields, base: LoadLevel) -> LoadLevel:
    load = LoadLevel(
        users=node.integer("users", base.users, minimum=1),
        spawn_rate=node.number("spawn_rate", base.spawn_rate, minimum=0.001),
        rate=node.number("rate", base.rate, minimum=0.001),
        workers=node.integer("workers", base.workers, minimum=1),
    )
    if load.workers > load.users:
        raise node.error(
            "workers" if node.has("workers") else "users",
            f"{load.workers} workers for {load.users} users: each worker needs at least one user",
        )
    node.finish()
    return load


def _windows(node: Fields, base: WindowDurations) -> WindowDurations:
    windows = WindowDurations(
        steady=node.duration("steady", base.steady),
        fault=node.duration("fault", base.fault),
        recovery=node.duration("recovery", base.recovery),
    )
    node.finish()
    return windows


def _scenarios(node: Fields, defaults: Defaults) -> tuple[Scenario, ...]:
    if not node.node:
        raise node.error(None, "no scenarios: at least one is needed")
    result = []
    for name in list(node.node):
        if not _NAME.match(name):
            raise node.error(name, "a scenario name is lower case letters, digits, '-', '_' and '.'")
        result.append(_scenario(name, node.section(name), defaults))
    node.finish()
    return tuple(result)


def _scenario(name: str, node: Fields, defaults: Defaults) -> Scenario:
    windows_node, load_node, fault_node = node.mapping("windows"), node.mapping("load"), node.mapping("fault")
    windows = _windows(windows_node, defaults.windows) if windows_node else defaults.windows
    load = _load(load_node, defaults.load) if load_node else defaults.load
    fault = _fault(fault_node) if fault_node else None
    faulted = node.string("faulted_service", None)
    if faulted is not None and fault is None:
        raise node.error("faulted_service", "only a scenario with a fault has a faulted service")
    description = node.string("description", "")
    abort = read_abort(node, _rule)
    if abort and fault is None:
        raise node.error("abort", "abort conditions guard a fault: this scenario has none")
    nightly = node.boolean("nightly", False)
    drivers = node.strings("drivers", ())
    unknown = [d for d in drivers if d not in DRIVERS]
    if unknown or (node.has("drivers") and not drivers):
        raise node.error("drivers", f"expected some of {', '.join(DRIVERS)}, got {list(drivers)!r}")
    node.finish()
    bounds = defaults.load_bounds
    if load.users > bounds.max_users:
        raise (load_node or node).error(
            "users" if load_node else None,
            f"{load.users} users exceeds load_bounds.max_users {bounds.max_users}",
        )
    if load.rate > bounds.max_rate:
        raise (load_node or node).error(
            "rate" if load_node else None,
            f"rate {load.rate:g}/s exceeds load_bounds.max_rate {bounds.max_rate:g}/s",
        )
    duration = windows.total if fault else windows.steady
    if duration > bounds.max_duration:
        raise node.error(
            "windows" if windows_node else None,
            f"runs {duration:g} s, over load_bounds.max_duration {bounds.max_duration:g} s",
        )
    return Scenario(
        name,
        description,
        windows,
        load,
        fault,
        faulted or (fault.target if fault else None),
        abort,
        nightly,
        drivers,
    )


def _fault(node: Fields) -> FaultSpec:
    kind = node.choice("kind", FAULT_KINDS)
    target = node.string("target")
    stream = node.choice("stream", STREAMS, "downstream")
    if node.has("stream") and not kind.startswith("proxy_"):
        raise node.error("stream", f"only proxy faults have a stream, not {kind}")
    allowed = FAULT_ATTRIBUTES[kind]
    models, path, counter = _burst_names(node, kind) if kind in BURST_KINDS else ((), None, None)
    network, keep_network = _partition_networks(node, kind)
    mode = _partition_mode(node, kind)
    attributes = []
    for key in list(node.node):
        if key in _FAULT_KEYS:
            continue
        if key not in allowed:
            expected = ", ".join(allowed) if allowed else "none"
            raise node.error(
                key, f"unknown attribute for {kind} (expected: kind, target, stream, {expected})"
            )
        if kind in BURST_KINDS:
            value = _burst_number(node, key)
        elif kind in PRESSURE_KINDS:
            value = _pressure_number(node, key)
        else:
            value = node.number(key, minimum=0)
        if key == "toxicity" and value > 1:
            raise node.error(key, "toxicity is a fraction between 0 and 1")
        if key == "exit_code" and value != CRASH_EXIT_CODE:
            raise node.error(
                key,
                f"a crash caused from outside exits {CRASH_EXIT_CODE} (SIGKILL): a process exits "
                f"with {value:g} only by itself",
            )
        attributes.append((key, value))
    if kind in BURST_KINDS:
        for key in ("concurrency", "requests"):
            node.integer(key)  # required: a burst is bounded in count
    if kind == "memory_pressure" and node.has("bytes") == node.has("fraction_of_limit"):
        raise node.error(
            "bytes" if node.has("bytes") else None, "give exactly one of bytes and fraction_of_limit"
        )
    node.finish()
    return FaultSpec(
        kind, target, tuple(attributes), stream, models, path, counter, network, keep_network, mode
    )


_FAULT_KEYS = (
    "kind",
    "target",
    "stream",
    "models",
    "path",
    "proof_counter",
    "network",
    "keep_network",
    "mode",
)
"""A fault's keys that are not numeric attributes."""


def _partition_networks(node: Fields, kind: str) -> tuple[str | None, str | None]:
    """A partition's ``network`` (cut from it) or ``keep_network`` (cut from all others): exactly one."""
    for key in ("network", "keep_network"):
        if node.has(key) and kind != PARTITION:
            raise node.error(key, f"only partition has a {key}, not {kind}")
    if kind != PARTITION:
        return None, None
    if node.has("network") == node.has("keep_network"):
        raise node.error(
            "network" if node.has("network") else None, "give exactly one of network and keep_network"
        )
    return node.string("network", None), node.string("keep_network", None)


def _partition_mode(node: Fields, kind: str) -> PartitionMode:
    """A partition's ``mode``: ``disconnect`` (the default) or ``drop``."""
    if node.has("mode") and kind != PARTITION:
        raise node.error("mode", f"only partition has a mode, not {kind}")
    return node.choice("mode", PARTITION_MODES, "disconnect") if kind == PARTITION else "disconnect"


def _pressure_number(node: Fields, key: str) -> float:
    """A pressure attribute: ``bytes`` a size (``64m``, ``1g``: binary units, as Docker), ``ramp`` a
    duration, ``workers`` a whole number, the others numbers; each within its range."""
    value: float
    if key == "bytes":
        raw = node.raw(key)
        try:
            value = float(parse_bytes(raw))
        except ValueError:
            raise node.error(key, f"expected a size like 64m or 1g (binary units), got {show(raw)}") from None
    elif key == "ramp":
        value = node.duration(key, positive=False)
    elif key == "workers":
        value = float(node.integer(key))
    else:
        value = node.number(key)
    low, high = PRESSURE_LIMITS[key]
    if not low <= value <= high:

        def shown(number: float) -> str:
            return format_bytes(int(number)) if key == "bytes" else f"{number:g}"

        raise node.error(key, f"{shown(value)} is outside {shown(low)}..{shown(high)} for {key}")
    return value


def _burst_names(node: Fields, kind: str) -> tuple[tuple[str, ...], str | None, str | None]:
    """A burst's ``models`` (names asked for in turn; ollama_load needs one), http_burst's ``path`` and
    ``proof_counter`` (a metric name: the helper reads it from the target's Prometheus text)."""
    models = node.strings("models") if kind == "ollama_load" else node.strings("models", ())
    for name in models:
        if not _MODEL.match(name):
            raise node.error("models", f"{show(name)} is not a model name (letters, digits and ._:-)")
    if kind == "ollama_load" and not models:
        raise node.error("models", "ollama_load needs at least one model")
    for key in ("path", "proof_counter"):
        if node.has(key) and kind != "http_burst":
            raise node.error(key, f"only http_burst has a {key}, not {kind}")
    path = node.string("path", None)
    if path is not None and not path.startswith("/"):
        raise node.error("path", f"a path starts with /, got {show(path)}")
    counter = node.string("proof_counter", None)
    if counter is not None and not _METRIC.match(counter):
        raise node.error("proof_counter", f"{show(counter)} is not a metric name (letters, digits, _ and :)")
    return models, path, counter


def _burst_number(node: Fields, key: str) -> float:
    """A burst's attribute: a whole number of at least 1 (``duration`` a duration), at most its bound."""
    value = node.duration(key) if key == "duration" else float(node.integer(key, minimum=1))
    if value > BURST_LIMITS.get(key, float("inf")):
        raise node.error(key, f"{value:g} is over the bound of {BURST_LIMITS[key]:g} for a burst")
    return value


def _objectives(top: Fields, scenarios: tuple[Scenario, ...]) -> tuple[Objective, ...]:
    items = top.sequence("objectives")
    if not items:
        raise top.error("objectives", "no objectives: at least one is needed")
    by_name = {s.name: s for s in scenarios}
    seen: dict[str, int | None] = {}
    result = []
    for index, item in enumerate(items):
        node = Fields(item, f"objectives[{index}]", top.path, item_line(items, index, top.line))
        objective = _objective(node, by_name)
        if objective.id in seen:
            raise node.error("id", f"duplicate id '{objective.id}' (first at line {seen[objective.id]})")
        seen[objective.id] = node.line_of("id")
        result.append(objective)
    return tuple(result)


def _objective(node: Fields, scenarios: dict[str, Scenario]) -> Objective:
    objective_id = node.string("id")
    if not _NAME.match(objective_id):
        raise node.error("id", "an id is lower case letters, digits, '-', '_' and '.'")
    node.where = f"objectives[{objective_id}]"
    rule = _rule(node)
    window = node.choice("window", WINDOW_NAMES)
    severity = node.choice("severity", SEVERITIES, "gate")
    names, explicit = _scenario_names(node, scenarios)
    measurement, spec = _measurement(node)
    grading = read_grading(node, measurement.params)
    regression = read_regression(node)
    # Named explicitly, a fault-less scenario for a fault-only check is a mistake; under `all` it is
    # simply skipped when judged.
    needs_fault = window in ("fault", "recovery") or spec.needs_fault
    for name in names if explicit and needs_fault else ():
        if scenarios[name].fault is None:
            need = f"window '{window}'" if window in ("fault", "recovery") else f"analyzer {spec.name}"
            raise node.error("scenarios", f"scenario '{name}' has no fault, but {need} needs one")
    description = node.string("description", "")
    node.finish()
    return Objective(
        objective_id,
        rule,
        description,
        names,
        window,
        measurement,
        severity,
        node.line,
        grading=grading,
        regression=regression,
    )


def _rule(node: Fields) -> str:
    rule = node.raw("rule")
    if isinstance(rule, int | float) and not isinstance(rule, bool):
        # YAML reads 10.10 as the number 10.1: a number here may already have lost a digit.
        raise node.error(
            "rule", f'got the number {rule!r}: quote the rule number, like "10.10" (YAML reads 10.10 as 10.1)'
        )
    if not isinstance(rule, str) or rule not in SECTIONS:
        raise node.error("rule", f"no section {show(rule)} in {RULES_DOCUMENT} (sections: {outline()})")
    return rule


def _scenario_names(node: Fields, scenarios: dict[str, Scenario]) -> tuple[tuple[str, ...], bool]:
    """The scenario names, and whether they were named explicitly (rather than ``all``)."""
    if node.raw("scenarios") == "all":
        return tuple(scenarios), False
    names = node.strings("scenarios")
    if not names:
        raise node.error("scenarios", "an empty list judges nothing: name at least one scenario, or all")
    for index, name in enumerate(names):
        if name not in scenarios:
            known = ", ".join(scenarios)
            raise node.error("scenarios", f"unknown scenario '{name}' (known: {known}, or all)")
        if name in names[:index]:
            raise node.error("scenarios", f"scenario '{name}' is named twice")
    return names, True


def _measurement(node: Fields) -> tuple[Measurement, AnalyzerSpec[Any]]:
    has_promql, has_analyzer = node.has("promql"), node.has("analyzer")
    if has_promql == has_analyzer:
        raise node.error(None, "give exactly one of 'promql:' or 'analyzer:' as the measurement")
    if has_promql:
        spec: AnalyzerSpec[Any] = PROMQL
        params_node = node.section("promql")
    else:
        analyzer = node.section("analyzer")
        name = analyzer.string("name")
        if name not in ANALYZERS:
            raise analyzer.error("name", f"unknown analyzer '{name}' (known: {', '.join(ANALYZERS)})")
        spec = ANALYZERS[name]
        params_node = analyzer.mapping("params") or Fields(
            {}, f"{analyzer.where}.params", node.path, analyzer.line_of("name")
        )
        analyzer.finish()
    params = read_dataclass(spec.params, params_node)
    return Measurement(spec.name, params, spec.describe(params)), spec
