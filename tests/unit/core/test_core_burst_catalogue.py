"""slas.yaml bursts (ollama_load, http_burst): bounded in count and time, their models and path read;
every mistake one InputError naming the line and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from catalogue_synth import OneFault

from harness.catalogue import load_catalogue, parse_text
from harness.pytest_plugin import fault_family

ROOT = Path(__file__).resolve().parents[3]

CATALOGUE = OneFault("burst", "12.1", "analyzer: {name: ollama_limits}")
parse = CATALOGUE.parse


def error_of(fault: str) -> str:
    return CATALOGUE.error_of(fault, "slas.yaml:4")


def test_ollama_load_reads_its_bounds_and_models() -> None:
    spec = (
        parse(
            "{kind: ollama_load, target: ollama, concurrency: 24, requests: 600, num_predict: 32,"
            " models: [tinyllama, phi], duration: 30s}"
        )
        .scenarios[0]
        .fault
    )
    assert spec is not None
    assert spec.models == ("tinyllama", "phi") and spec.path is None
    assert dict(spec.attributes) == {"concurrency": 24, "requests": 600, "num_predict": 32, "duration": 30}


def test_http_burst_takes_a_path_and_needs_no_model() -> None:
    spec = parse("{kind: http_burst, target: agent-indexer, concurrency: 20, requests: 40, path: /api/task}")
    fault = spec.scenarios[0].fault
    assert fault is not None and fault.path == "/api/task" and fault.models == ()
    assert fault_family(spec.scenarios[0]) == "burst"


def test_http_burst_may_repeat_its_bodies() -> None:
    spec = parse("{kind: http_burst, target: agent-orchestrator, concurrency: 4, requests: 600, distinct: 8}")
    fault = spec.scenarios[0].fault
    assert fault is not None and fault.attribute("distinct") == 8


def test_http_burst_may_be_proven_by_a_counter_on_another_port() -> None:
    spec = parse(
        "{kind: http_burst, target: gateway, port: 8080, path: /api/indexer/task, concurrency: 32,"
        " requests: 2000, proof_port: 10402, proof_counter: haproxy_frontend_http_requests_total}"
    )
    fault = spec.scenarios[0].fault
    assert fault is not None and fault.proof_counter == "haproxy_frontend_http_requests_total"
    assert fault.attribute("proof_port") == 10402 and fault.attribute("port") == 8080


@pytest.mark.parametrize(
    ("fault", "field", "says"),
    [
        ("{kind: ollama_load, target: o, concurrency: 2, requests: 4}", "models", "missing"),
        ("{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: []}", "models", "at least one"),
        (
            "{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: [a b]}",
            "models",
            "model name",
        ),
        ("{kind: http_burst, target: a, requests: 4}", "concurrency", "missing"),
        ("{kind: http_burst, target: a, concurrency: 2}", "requests", "missing"),
        ("{kind: http_burst, target: a, concurrency: 65, requests: 4}", "concurrency", "bound of 64"),
        ("{kind: http_burst, target: a, concurrency: 2, requests: 2001}", "requests", "bound of 2000"),
        (
            "{kind: http_burst, target: a, concurrency: 2, requests: 4, duration: 11m}",
            "duration",
            "bound of 600",
        ),
        ("{kind: http_burst, target: a, concurrency: 0, requests: 4}", "concurrency", "at least 1"),
        ("{kind: http_burst, target: a, concurrency: 2.5, requests: 4}", "concurrency", "integer"),
        ("{kind: http_burst, target: a, concurrency: 2, requests: 4, path: api}", "path", "starts with /"),
        (
            "{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: [a], path: /x}",
            "path",
            "only",
        ),
        (
            "{kind: http_burst, target: a, concurrency: 2, requests: 4, num_predict: 3}",
            "num_predict",
            "unknown",
        ),
        ("{kind: container_kill, target: a, models: [x]}", "models", "unknown"),
        ("{kind: http_burst, target: a, concurrency: 2, requests: 4, distinct: 0}", "distinct", "at least 1"),
        ("{kind: http_burst, target: a, concurrency: 2, requests: 4, distinct: 1.5}", "distinct", "integer"),
        (
            "{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: [a], distinct: 2}",
            "distinct",
            "unknown",
        ),
        (
            "{kind: http_burst, target: a, concurrency: 2, requests: 4, proof_port: 0}",
            "proof_port",
            "at least 1",
        ),
        (
            "{kind: http_burst, target: a, concurrency: 2, requests: 4, proof_port: 70000}",
            "proof_port",
            "bound of 65535",
        ),
        ("{kind: http_burst, target: a, concurrency: 2, requests: 4, port: 70000}", "port", "bound of 65535"),
        (
            "{kind: http_burst, target: a, concurrency: 2, requests: 4, proof_counter: 'requests{a=\"b\"}'}",
            "proof_counter",
            "not a metric name",
        ),
        (
            "{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: [a], proof_counter: x_total}",
            "proof_counter",
            "only http_burst",
        ),
        (
            "{kind: ollama_load, target: o, concurrency: 2, requests: 4, models: [a], proof_port: 9}",
            "proof_port",
            "unknown",
        ),
        ("{kind: container_kill, target: a, proof_counter: x_total}", "proof_counter", "unknown"),
    ],
)
def test_a_bad_burst_names_its_field(fault: str, field: str, says: str) -> None:
    message = error_of(fault)
    assert field in message and says in message


def test_the_reference_catalogue_has_both_bursts() -> None:
    catalogue = load_catalogue(ROOT / "slas.yaml")
    kinds = {s.fault.kind for s in catalogue.scenarios if s.fault}
    assert {"ollama_load", "http_burst"} <= kinds


def test_the_bursts_the_analyzers_page_suggests_are_valid() -> None:
    """docs/analyzers.md's scenarios for `caching` and `gateway` use the real attribute names."""
    text = (ROOT / "docs" / "analyzers.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    wanted = ("cache-repeat", "gateway-burst")
    scenarios = {k: v for b in blocks for k, v in (b or {}).get("scenarios", {}).items() if k in wanted}
    objective = {
        "id": "x",
        "rule": "12.1",
        "scenarios": "all",
        "window": "whole",
        "analyzer": {"name": "ollama_limits"},
    }
    catalogue = parse_text(yaml.safe_dump({"version": 1, "scenarios": scenarios, "objectives": [objective]}))
    cache, gateway = (catalogue.scenario(name).fault for name in wanted)
    assert cache is not None and cache.attribute("distinct") == 8
    assert gateway is not None and gateway.attribute("proof_port") == 10402
    assert gateway.proof_counter == "haproxy_frontend_http_requests_total"
