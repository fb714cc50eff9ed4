"""slas.yaml: the example parses; every mistake is one InputError naming file:line and the field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from harness.analyzers.circuit_breaker import CircuitBreakerParams
from harness.analyzers.promql import PromqlParams
from harness.catalogue import load_catalogue, parse_text
from harness.cli import main
from harness.errors import InputError
from harness.rules import SECTIONS

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "slas.example.yaml"
RULES_MD = ROOT.parent / "shared" / "architecture-rules.md"

GOOD = """\
version: 1
scenarios:
  baseline: {}
  redis-kill:
    fault: {kind: container_kill, target: redis}
objectives:
  - id: breaker
    rule: "3.4"
    scenarios: [redis-kill]
    window: whole
    analyzer:
      name: circuit_breaker
      params: {dependency: redis, half_open_after: 30s, tolerance: 1500ms}
  - id: errors
    rule: "10.3"
    scenarios: all
    window: fault
    severity: warn
    promql: {query: "up", comparator: ">=", threshold: 1}
"""


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_text(textwrap.dedent(text), "slas.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


def test_the_example_parses():
    catalogue = load_catalogue(EXAMPLE)
    assert catalogue.version == 1
    names = [s.name for s in catalogue.scenarios]
    assert names == ["baseline", "redis-kill", "postgres-pause", "rabbitmq-slow"]
    assert {o.measurement.analyzer for o in catalogue.objectives} == {
        "response_time",
        "circuit_breaker",
        "no_cascade",
        "required_metrics",
        "promql",
    }
    assert catalogue.scenario("rabbitmq-slow").fault.attribute("latency") == 5000
    assert catalogue.defaults.prometheus.url == "http://127.0.0.1:10400"


def test_a_good_catalogue_reads_typed_values():
    catalogue = parse_text(GOOD, "slas.yaml")
    breaker, errors = catalogue.objectives
    assert breaker.measurement.params == CircuitBreakerParams(
        dependency="redis", half_open_after=30.0, tolerance=1.5
    )
    assert errors.rule == "10.3"
    assert errors.severity == "warn"
    assert errors.scenarios == ("baseline", "redis-kill")
    assert isinstance(errors.measurement.params, PromqlParams)
    assert errors.measurement.threshold == ">= 1"
    assert catalogue.objectives_for("baseline") == (errors,)
    assert catalogue.scenario("redis-kill").faulted_service == "redis"
    assert catalogue.scenario("baseline").fault is None


def test_lint_sections_are_accepted_as_they_are():
    catalogue = parse_text(GOOD + "pools:\n  anything: [1, {x: y}]\nlint: 7\n", "slas.yaml")
    assert len(catalogue.objectives) == 2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD + "extra: 1\n", 20, ["extra: unknown key"]),
        (GOOD.replace("version: 1", "version: 2"), 1, ["unsupported version 2"]),
        (GOOD.replace("version: 1\n", ""), 1, ["version", "missing required key"]),
        (
            GOOD.replace("name: circuit_breaker", "name: breaker_thing"),
            12,
            ["unknown analyzer 'breaker_thing'"],
        ),
        (
            GOOD.replace("scenarios: [redis-kill]", "scenarios: [redis-kil]"),
            9,
            ["unknown scenario 'redis-kil'"],
        ),
        (
            GOOD.replace("scenarios: [redis-kill]", "scenarios: []"),
            9,
            ["scenarios: an empty list judges nothing"],
        ),
        (
            GOOD.replace("scenarios: [redis-kill]", "scenarios: [redis-kill, redis-kill]"),
            9,
            ["objectives[breaker].scenarios: scenario 'redis-kill' is named twice"],
        ),
        (GOOD.replace("threshold: 1}", "threshold: lots}"), 19, ["threshold", "expected a number"]),
        (
            GOOD.replace("tolerance: 1500ms", "tolerance: soon"),
            13,
            ["params.tolerance", "expected a duration"],
        ),
        (GOOD.replace("tolerance: 1500ms", "tolerance: 0"), 13, ["tolerance", "longer than zero"]),
        (GOOD.replace("tolerance: 1500ms", "tolrance: 2s"), 13, ["tolrance", "unknown key"]),
        (GOOD.replace("window: whole", "window: later"), 10, ["window", "expected one of steady, fault"]),
        (GOOD.replace("severity: warn", "severity: fatal"), 18, ["severity"]),
        (GOOD.replace('comparator: ">="', 'comparator: "=>"'), 19, ["comparator"]),
        (GOOD.replace("id: errors", "id: breaker"), 14, ["duplicate id 'breaker' (first at line 7)"]),
        (
            GOOD.replace('rule: "3.4"', "rule: three"),
            8,
            ["rule: no section 'three' in architecture-rules.md"],
        ),
        (
            GOOD.replace('rule: "3.4"', 'rule: "99.99"'),
            8,
            ["no section '99.99'", "(sections: 1-12 and 1.1-1.4,"],
        ),
        (GOOD.replace('rule: "10.3"', "rule: 10.10"), 15, ["rule: got the number 10.1: quote", "10.10"]),
        (GOOD.replace('rule: "10.3"', "rule: 10.3"), 15, ["rule: got the number 10.3: quote"]),
        (GOOD.replace("target: redis", "target: redis, latency: 5"), 5, ["latency", "unknown attribute"]),
        (GOOD.replace("kind: container_kill", "kind: meteor"), 5, ["kind", "expected one of container_kill"]),
        (
            GOOD.replace("    promql:", "    analyzer: {name: required_metrics}\n    promql:"),
            14,
            ["exactly one of 'promql:' or 'analyzer:'"],
        ),
        (GOOD.replace("  baseline: {}", "  baseline: {load: {users: 100000}}"), 3, ["users", "max_users"]),
        (GOOD.replace("  baseline: {}", "  Base Line: {}"), 3, ["scenario name"]),
        (
            GOOD.replace("scenarios: [redis-kill]", "scenarios: [baseline]"),
            9,
            ["scenario 'baseline' has no fault", "circuit_breaker"],
        ),
        (GOOD.replace("version: 1", "version: 1\ndefaults: {prometheus: {url: localhost}}"), 2, ["url"]),
        (
            GOOD.replace("version: 1", "version: 1\ndefaults: {service_label: compose service}"),
            2,
            ["defaults.service_label: expected a Prometheus label name", "'compose service'"],
        ),
        (
            GOOD.replace("version: 1", 'version: 1\ndefaults: {prometheus: {url: "http://[::1"}}'),
            2,
            ["defaults.prometheus.url: expected an http:// or https:// URL, got 'http://[::1': Invalid IPv6"],
        ),
        (
            GOOD.replace("version: 1", "version: 1\ndefaults:\n  endpoints:\n    gateway: ftp://gw"),
            4,
            ["defaults.endpoints.gateway: expected an http:// or https:// URL with a host, got 'ftp://gw'"],
        ),
        (
            GOOD.replace("version: 1", "version: 1\ndefaults: {endpoints: {faultproxy: 'http://'}}"),
            2,
            ["defaults.endpoints.faultproxy: expected an http:// or https:// URL with a host"],
        ),
        (
            GOOD.replace("version: 1", "version: 1\ndefaults: {endpoints: {pushgateway: 'http://pg:99999'}}"),
            2,
            ["defaults.endpoints.pushgateway", "Port out of range"],
        ),
        ("version: 1\nscenarios: {a: {}}\nobjectives: []\n", 3, ["no objectives"]),
        ("version: 1\nscenarios: [a]\n", 2, ["scenarios", "expected a mapping"]),
        ("version: 1\nobjectives:\n  - id: x\n   rule: 1\n", 4, ["invalid YAML"]),
    ],
)
def test_mistakes_name_file_line_and_field(text, line, words):
    error = error_of(text)
    assert error.path == "slas.yaml"
    assert error.line == line, str(error)
    for word in words:
        assert word in str(error)
    assert str(error).startswith(f"slas.yaml:{line}")


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_catalogue(tmp_path / "nope.yaml")


def test_empty_file_is_an_input_error():
    assert "empty" in str(error_of(""))


def test_slas_command_lists_scenarios_and_objectives(capsys):
    assert main(["slas", "--slas", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "4 scenarios, 10 objectives" in out
    assert "redis-kill: container_kill redis" in out
    assert "breaker-redis (rule 3.4, gate, whole window of redis-kill)" in out
    assert "promql: <= 0.01 ratio; weight 2, pass <= 0.005, warning <= 0.008" in out
    assert "p(5) over the window between 10 and 60 req/s" in out
    assert out.rstrip().endswith("total_score: pass 90%, warning 75%")


def test_slas_command_reports_a_bad_file_as_one_line(tmp_path, capsys):
    bad = tmp_path / "slas.yaml"
    bad.write_text("version: 1\nscenarios: {a: {}}\nobjectives: [{id: x}]\n")
    assert main(["slas", "--slas", str(bad)]) == 2
    assert capsys.readouterr().err == f"harness slas: {bad}:3: objectives[x].rule: missing required key\n"


def _document_sections(text: str) -> dict[str, str]:
    """The "Rule N: title" and "N.M title" headings of architecture-rules.md."""
    headings = re.findall(r"^## \W*Rule (\d+): (.+?)\s*$|^### (\d+\.\d+) (.+?)\s*$", text, re.MULTILINE)
    return {rule or section: title or subtitle for rule, title, section, subtitle in headings}


def test_the_shipped_rule_outline_matches_the_rules_document():
    if not RULES_MD.is_file():
        pytest.skip(f"{RULES_MD} is absent: the shipped outline (harness/rules.py) cannot be compared")
    assert _document_sections(RULES_MD.read_text(encoding="utf-8")) == dict(SECTIONS)


def test_the_outline_reader_sees_a_changed_document():
    # The comparison above can fail: a renamed or added section shows.
    document = "## 🔒 Rule 9: Security\n### 9.1 Network Segmentation\n### 9.4 New\n"
    assert _document_sections(document) == {"9": "Security", "9.1": "Network Segmentation", "9.4": "New"}


CASCADE = """\
version: 1
scenarios:
  redis-kill: {fault: {kind: proxy_latency, target: redis, latency: 3000, toxicity: 0.5, stream: upstream}}
objectives:
  - id: cascade
    rule: "10.3"
    scenarios: redis-kill
    window: fault
    analyzer:
      name: no_cascade
      params:
        graph: {gateway: [agent], agent: [redis]}
        services: gateway
        api_threshold: 4.5
        independent_api_threshold: 2s
"""


def test_graph_and_list_parameters_read_typed():
    catalogue = parse_text(CASCADE, "slas.yaml")
    params = catalogue.objectives[0].measurement.params
    assert dict(params.graph) == {"gateway": frozenset({"agent"}), "agent": frozenset({"redis"})}
    assert params.services == ("gateway",)
    assert (params.api_threshold, params.independent_api_threshold) == (4.5, 2.0)
    fault = catalogue.scenario("redis-kill").fault
    assert (fault.kind, fault.stream, fault.attribute("toxicity")) == ("proxy_latency", "upstream", 0.5)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("graph: {gateway: [agent], agent: [redis]}", "graph: [gateway]", 12, ["params.graph", "mapping"]),
        (
            "graph: {gateway: [agent], agent: [redis]}",
            "graph: {gateway: 3}",
            12,
            ["graph.gateway", "strings"],
        ),
        ("services: gateway", "services: [1]", 13, ["services"]),
        ("toxicity: 0.5", "toxicity: 5", 3, ["toxicity", "between 0 and 1"]),
        ("kind: proxy_latency", "kind: container_kill", 3, ["stream", "only proxy faults"]),
    ],
)
def test_nested_parameter_mistakes(old, new, line, words):
    error = error_of(CASCADE.replace(old, new))
    assert error.line == line, str(error)
    for word in words:
        assert word in str(error)
