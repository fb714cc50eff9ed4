"""`python -m harness init` through the real entry point: golden outputs, the validator, refusals.

The goldens (``golden/*.yaml``) were reviewed by hand once; a change to the output is a change to review
again: ``HARNESS_UPDATE_GOLDEN=1 pytest tests/init`` rewrites them, and ``git diff`` shows what moved. The
two SutazAI files are copies of ``../shared/fixtures/compose/sutazaiapp-v55`` (so the test needs no
checkout beside this one); a test checks the copies have not drifted when ``../shared`` is there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.lint.config import LintConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
SUTAZAI = HERE / "fixtures" / "sutazaiapp-v55"
SHARED_SUTAZAI = ROOT / ".." / "shared" / "fixtures" / "compose" / "sutazaiapp-v55"
# golden name -> (the folder init runs in, its compose files): relative names keep the output's header stable
CASES = {
    "reference": (ROOT / "stack", ["compose.yml"]),
    "sutazai": (SUTAZAI, ["docker-compose.infrastructure.yml", "docker-compose.phase1-critical.yml"]),
    "relay": (ROOT / "examples" / "relay", ["compose.yml"]),  # the example stack (examples/relay)
}


def harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("harness init: "), err
    return err.removeprefix("harness init: ").rstrip("\n")


def init(case: str, output: Path, *more: str) -> subprocess.CompletedProcess[str]:
    folder, files = CASES[case]
    return harness("init", *files, "--output", str(output), *more, cwd=folder)


@pytest.mark.parametrize("case", CASES)
def test_output_is_the_reviewed_golden_file(case: str, tmp_path: Path) -> None:
    output = tmp_path / "slas.yaml"
    result = init(case, output)
    assert result.returncode == 0, result.stderr
    golden = HERE / "golden" / f"{case}.yaml"
    if os.environ.get("HARNESS_UPDATE_GOLDEN"):
        golden.write_bytes(output.read_bytes())
    assert output.read_bytes() == golden.read_bytes()


@pytest.mark.parametrize("case", CASES)
def test_output_passes_the_catalogue_validator(case: str) -> None:
    result = harness("slas", "--slas", str(HERE / "golden" / f"{case}.yaml"))
    assert result.returncode == 0, result.stderr


def test_the_reference_output_judges_what_the_reference_catalogue_judges() -> None:
    """Close to slas.yaml, so that it is likely to run green on the reference stack."""
    text = (HERE / "golden" / "reference.yaml").read_text()
    for expected in [
        "url: http://127.0.0.1:10400",
        "gateway: http://127.0.0.1:8080",
        "faultproxy: http://127.0.0.1:10010",
        "pushgateway: http://127.0.0.1:10403",
        "service_label: service",
        "fault: {kind: proxy_latency, target: redis, latency: 5000}",
        "selector: 'service=\"agent-orchestrator\"'",
        "id: no-cascade",
    ]:
        assert expected in text


def test_the_relay_output_finds_its_own_endpoints_label_and_dependencies() -> None:
    """No sutazai labels, another Prometheus label, a fault proxy known by its name, a gateway by its image."""
    text = (HERE / "golden" / "relay.yaml").read_text()
    for expected in [
        "url: http://127.0.0.1:10450",
        "gateway: http://127.0.0.1:18080  # from ports of router (18080:18080): gateway, from image 'haproxy'",
        "faultproxy: http://127.0.0.1:10060",
        "pushgateway: http://127.0.0.1:10453",
        "service_label: component  # from static_configs labels in prometheus/prometheus.yml",
        "fault: {kind: proxy_latency, target: kv, latency: 5000}",
        "  - id: worker-a-breaker-kv\n",
        "  - id: worker-b-breaker-store\n",
        "service_tiers: {router: gateway}",
    ]:
        assert expected in text, expected


def test_without_a_fault_proxy_the_slow_scenarios_are_commented_out_with_the_reason() -> None:
    text = (HERE / "golden" / "sutazai.yaml").read_text()
    assert not re.search(r"^  [a-z0-9-]+-slow:", text, re.MULTILINE)  # none is live
    assert "  #   fault: {kind: proxy_latency, target: rabbitmq, latency: 5000}" in text
    assert "Needs a fault proxy (Toxiproxy, or this project's faultproxy) in front of rabbitmq" in text


def test_the_lint_sections_read_back_as_the_rules_values_and_the_stacks() -> None:
    reference = load_config(HERE / "golden" / "reference.yaml")
    assert reference.healthcheck.interval == 10 and reference.healthcheck.timeout == 5  # every healthcheck's
    assert reference.publish_on_loopback == {"monitoring", "faultproxy"}
    rules = LintConfig()
    assert [(p.name, p.budget, set(p.tiers), p.reserve) for p in reference.pools] == [
        (p.name, p.budget, set(p.tiers), p.reserve) for p in rules.pools
    ]
    for field in ("port_ranges", "cpu_affinity", "forbidden_ports", "secret_names", "ollama", "claude"):
        assert getattr(reference, field) == getattr(rules, field), field
    sutazai = load_config(HERE / "golden" / "sutazai.yaml")
    assert sutazai.healthcheck == rules.healthcheck  # the files' healthchecks disagree: the rule's timing
    assert sutazai.service_tiers == {"kong": "gateway"}
    assert sutazai.publish_on_loopback == frozenset()  # every port is published on all addresses


def test_every_value_under_defaults_says_where_it_came_from() -> None:
    for case in CASES:
        lines = (
            (HERE / "golden" / f"{case}.yaml").read_text().split("\nscenarios:")[0].split("\ndefaults:")[1]
        )
        for line in lines.splitlines():
            _, _, value = line.partition(":")
            if value.strip() and not value.strip().startswith("#"):
                assert "  # " in value, f"{case}: {line!r}"


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    output = tmp_path / "slas.yaml"
    output.write_text("mine\n")
    refused = init("reference", output)
    assert refused.returncode == 2
    assert one_line(refused.stderr) == f"{output}: already exists (--force overwrites it)"
    assert output.read_text() == "mine\n"
    forced = init("reference", output, "--force")
    assert forced.returncode == 0, forced.stderr
    assert output.read_bytes() == (HERE / "golden" / "reference.yaml").read_bytes()


def test_stack_option_is_a_synonym_of_the_files(tmp_path: Path) -> None:
    folder, files = CASES["sutazai"]
    result = harness("init", "--stack", *files, "--output", str(tmp_path / "s.yaml"), cwd=folder)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "s.yaml").read_bytes() == (HERE / "golden" / "sutazai.yaml").read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "missing.yml: no such file"),
        ("services:\n  a:\n    image: [1\n", "broken.yml:4:1: invalid YAML"),
        (
            "services:\n  a:\n    depends_on: [b]\n",
            "broken.yml:3: services.a.depends_on: service 'b' is not defined",
        ),
        ("services:\n  a:\n    ports: [nonsense]\n", "broken.yml:3: services.a.ports: not a port"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    name = "missing.yml" if content is None else "broken.yml"
    if content is not None:
        (tmp_path / name).write_text(content)
    result = harness("init", name, "--output", "out.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(message)
    assert not (tmp_path / "out.yaml").exists()


def test_no_compose_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = harness("init", cwd=tmp_path)
    assert result.returncode == 2
    assert "no compose file" in one_line(result.stderr)


@pytest.mark.skipif(not SHARED_SUTAZAI.is_dir(), reason="../shared/fixtures is absent")
def test_the_sutazai_copies_are_the_shared_files() -> None:
    for name in CASES["sutazai"][1]:
        assert (SUTAZAI / name).read_bytes() == (SHARED_SUTAZAI / name).read_bytes(), name


def test_the_reference_output_lints_the_reference_stack_as_its_own_catalogue_does() -> None:
    ours = harness("lint", "stack/compose.yml", "--slas", str(HERE / "golden" / "reference.yaml"))
    theirs = harness("lint", "stack/compose.yml", "--slas", "slas.yaml")
    assert ours.returncode == theirs.returncode == 0, ours.stdout
    assert ours.stdout == theirs.stdout


UNSEEN_STACK = """\
services:
  toxi:
    image: ghcr.io/shopify/toxiproxy:2.9.0
    ports: ["127.0.0.1:18474:8474"]
  metrics:
    image: acme/metrics:1
    labels: {com.acme.role: prometheus-server}
    ports: ["127.0.0.1:19090:9090"]
  db:
    image: docker.io/library/mysql:8
  API:
    image: acme/api:1
    healthcheck: {test: ["CMD", "curl", "-f", "http://localhost:8000/healthz"]}
    depends_on: [db]
"""


def test_a_stack_unlike_the_reference_one(tmp_path: Path) -> None:
    """Toxiproxy, a Prometheus known by its label only, a capitalised service name, no sutazai labels."""
    (tmp_path / "compose.yml").write_text(UNSEEN_STACK)
    result = harness("init", "compose.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "slas.yaml").read_text()
    for expected in [
        "faultproxy: http://127.0.0.1:18474  # from ports of toxi (18474:8474): fault proxy, from image 'toxiproxy'",
        "url: http://127.0.0.1:19090  # from ports of metrics (19090:9090): Prometheus, from label 'prometheus'",
        "  db-slow:\n",
        "# needs a proxy named db in toxi, between db and its users",
        "  - id: api-health-latency\n",
        'selector: \'job="API", path="/healthz"\'  # from healthcheck of API',
        "  - id: api-breaker-db\n",
        "dependency: db  # from depends_on of API",
    ]:
        assert expected in text, expected
    checked = harness("slas", "--slas", "slas.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
