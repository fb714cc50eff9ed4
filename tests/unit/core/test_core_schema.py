"""slas.yaml's JSON Schema (``python -m harness slas --schema``): derived from the catalogue model, it
accepts the shipped catalogues and refuses what the parser refuses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from harness.analyzers import ANALYZERS
from harness.analyzers.promql import PromqlParams
from harness.catalogue import parse_text
from harness.catalogue.schema import catalogue_schema
from harness.cli import main
from harness.errors import InputError
from harness.yamlsource import load_file, load_text

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ["slas.yaml", "slas.example.yaml", "tests/reliability/trials-slas.yaml"]
VALIDATOR = jsonschema.Draft202012Validator(catalogue_schema())

GOOD = """\
version: 1
defaults:
  windows: {steady: 20s, fault: 1m}
scenarios:
  baseline: {}
  kill: {fault: {kind: proxy_latency, target: redis, latency: 500}}
objectives:
  - id: latency
    rule: "8.1"
    scenarios: all
    window: steady
    analyzer: {name: response_time, params: {threshold: 1s, percentile: p(99.9)}}
  - id: errors
    rule: "10.1"
    scenarios: [kill]
    window: fault
    promql: {query: up, comparator: "<=", threshold: 0.01, aggregation: avg}
    pass: "<= 0.005"
    warning: ["<= 0.008"]
    weight: 2
total_score: {pass: 90%, warning: 0.75}
load:
  requests:
    - {name: order, method: POST, path: /api/orders, body: {item: 1}, weight: 3}
    - {name: health, path: /health}
labels: {tier: acme.tier, phase: acme.phase}
"""


def test_the_schema_is_a_valid_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(catalogue_schema())


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_catalogues_validate(name):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(load_file(ROOT / name))]
    assert errors == []


def test_a_good_document_passes_both():
    parse_text(GOOD, "slas.yaml")
    assert list(VALIDATOR.iter_errors(load_text(GOOD, "slas.yaml"))) == []


BAD = [
    ("unknown key", "    window: steady\n", "    window: steady\n    severty: warn\n"),
    ("rule not a section", 'rule: "8.1"', 'rule: "99.99"'),
    ("rule unquoted 10.10 (the number 10.1)", 'rule: "10.1"', "rule: 10.10"),
    ("bad comparator", 'comparator: "<="', 'comparator: "=~"'),
    ("unknown analyzer parameter", "percentile: p(99.9)", "percentile: p(99.9), quantile: 0.9"),
    ("bad percentile", "percentile: p(99.9)", "percentile: p(101)"),
    ("bad aggregation", "aggregation: avg", "aggregation: median"),
    ("bad criterion", 'pass: "<= 0.005"', 'pass: "about 0.005"'),
    ("bad total score", "pass: 90%", "pass: 90"),
    (
        "criteria on an analyzer objective",
        "percentile: p(99.9)}}\n",
        "percentile: p(99.9)}}\n    pass: '< 1'\n",
    ),
    ("warning without pass", '    pass: "<= 0.005"\n', ""),
    (
        "both measurements",
        "aggregation: avg}\n",
        "aggregation: avg}\n    analyzer: {name: response_time}\n",
    ),
    ("attribute of another fault kind", "latency: 500", "latency: 500, rate: 3"),
    ("bad duration", "steady: 20s", "steady: soon"),
    ("a request path not from the root", "path: /health", "path: health"),
    ("a body on a GET", "path: /health}", "path: /health, body: {a: 1}}"),
    ("an unknown method", "method: POST", "method: SEND"),
    ("a weight of 0", "weight: 3", "weight: 0"),
    ("an unknown request key", "weight: 3", "weight: 3, timeout: 1"),
    ("an unknown label", "phase: acme.phase", "phase: acme.phase, zone: acme.zone"),
    (
        "neither locustfile nor requests",
        "    - {name: order, method: POST, path: /api/orders, body: {item: 1}, weight: 3}\n"
        "    - {name: health, path: /health}\n",
        "    []\n",
    ),
    (
        "no scenarios",
        "  baseline: {}\n  kill: {fault: {kind: proxy_latency, target: redis, latency: 500}}\n",
        " {}\n",
    ),
]


@pytest.mark.parametrize(("why", "old", "new"), BAD, ids=[b[0] for b in BAD])
def test_what_the_parser_refuses_the_schema_refuses(why, old, new):
    assert old in GOOD, why
    text = GOOD.replace(old, new, 1)
    with pytest.raises(InputError):
        parse_text(text, "slas.yaml")
    assert list(VALIDATOR.iter_errors(load_text(text, "slas.yaml"))), f"the schema accepts: {why}"


def test_the_schema_is_derived_from_the_parameter_dataclasses():
    objective = catalogue_schema()["properties"]["objectives"]["items"]
    assert set(objective["properties"]["promql"]["properties"]) == {
        f.name for f in dataclasses.fields(PromqlParams)
    }
    branches = objective["properties"]["analyzer"]["allOf"]
    derived = {b["if"]["properties"]["name"]["const"]: b["then"]["properties"]["params"] for b in branches}
    assert set(derived) == set(ANALYZERS)
    for name, spec in ANALYZERS.items():
        assert set(derived[name]["properties"]) == {f.name for f in dataclasses.fields(spec.params)}, name


def test_slas_schema_prints_it(capsys):
    assert main(["slas", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == catalogue_schema()
