"""Reading compose files: interpolation, .env, -f override merging with file:line, suppressions, config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from _lint_support import CONFIG, errors, good_stack, lint_docs, of_rule, service, with_service, write

from harness.errors import InputError
from harness.lint.config import load_config
from harness.lint.interpolate import Interpolated, substitute
from harness.lint.loader import load_compose
from harness.lint.units import parse_bytes, parse_duration, parse_port_short

# --- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET-x", "value-x"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${UNSET-fallback}", "fallback"),
        ("${SET:+alt}", "alt"),
        ("${UNSET:+alt}", ""),
        ("${UNSET:-${SET}}", "value"),
        ("$${SET}", "${SET}"),
        ("a$$b", "a$b"),
        ("${UNSET}", ""),
        ("${SET:?needed}", "value"),
    ],
)
def test_interpolation_forms(text: str, expected: str) -> None:
    assert substitute(text, {"SET": "value", "EMPTY": ""}) == expected


def test_only_values_that_used_a_variable_are_marked_interpolated() -> None:
    env = {"A": "1"}
    assert isinstance(substitute("${A}", env), Interpolated)
    assert not isinstance(substitute("$$A", env), Interpolated)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("${EMPTY:?set it}", "set it"),
        ("${UNSET?}", "UNSET"),
        ("${A", "invalid interpolation"),
        ("${A:-x", "no closing brace"),
    ],
)
def test_required_and_malformed_variables_are_input_errors(tmp_path: Path, text: str, cause: str) -> None:
    doc = with_service("worker", service(image=text))
    with pytest.raises(InputError) as caught:
        lint_docs(tmp_path, doc, environ={"EMPTY": ""})
    assert cause in str(caught.value)
    assert caught.value.line is not None and caught.value.line > 1


def test_dotenv_beside_the_first_file_with_the_environment_winning(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nexport WORKER_PORT=10250\nTAG='2.0'\n")
    svc = service(port=10250, image="example/app:${TAG}")
    svc["environment"]["PORT"] = "${WORKER_PORT}"
    model = load_compose(
        [str(write(tmp_path / "c.yml", with_service("worker", svc)))], {"TAG": "3.0"}, CONFIG
    )
    worker = model.service("worker")
    assert worker is not None
    assert worker.environment["PORT"].value == "10250"
    assert worker.image == "example/app:3.0"


# --- merging -f overrides ------------------------------------------------------------------------


def test_override_merges_like_compose_and_keeps_the_winning_line(tmp_path: Path) -> None:
    base = with_service("worker", service(command=["run", "a"], ports=["10200:10200"]))
    override = (
        "services:\n"
        "  worker:\n"
        "    command: [run, b]\n"
        "    environment:\n"
        "      - EXTRA=1\n"
        "      - PORT=10201\n"
        "    ports: ['10200:10200', '10201:10201']\n"
        "    healthcheck:\n"
        "      test: [CMD, true]\n"
        "    deploy:\n"
        "      resources:\n"
        "        limits: {memory: 600M}\n"
    )
    paths = [str(write(tmp_path / "a.yml", base)), str(write(tmp_path / "b.yml", override))]
    worker = load_compose(paths, {}, CONFIG).service("worker")
    assert worker is not None
    assert worker.command == "run b"
    assert worker.environment["PORT"].value == "10201"
    assert worker.environment["PORT"].loc.file.endswith("b.yml") and worker.environment["PORT"].loc.line == 6
    assert worker.environment["EXTRA"].value == "1"
    assert [str(p.value.target) for p in worker.ports] == ["10200", "10201"]
    assert worker.ports[0].loc.file.endswith("a.yml") and worker.ports[1].loc.file.endswith("b.yml")
    assert worker.healthcheck is not None and worker.healthcheck.test is not None
    assert worker.healthcheck.test.value == "CMD True"
    assert (
        worker.healthcheck.interval is not None and worker.healthcheck.interval.value == 30
    )  # kept from a.yml
    assert worker.mem_limit is not None and worker.mem_limit.loc.file.endswith("b.yml")
    assert worker.cpu_limit is not None and worker.cpu_limit.value == 1.0  # deep merge keeps the base's cpus


def test_yaml_anchors_and_merge_keys_resolve(tmp_path: Path) -> None:
    text = (
        "x-base: &base\n"
        "  image: example/app:1\n"
        "  user: '1000:1000'\n"
        "services:\n"
        "  worker:\n"
        "    <<: *base\n"
        "    user: '0'\n"
    )
    report = lint_docs(tmp_path, text)
    (finding,) = errors(report, "9.3", "worker")
    assert finding.line == 7


# --- suppressions ----------------------------------------------------------------------------------


def test_suppression_with_a_reason_is_reported_but_not_counted(tmp_path: Path) -> None:
    svc = service(ports=["10200:10200"])
    svc["x-lint-suppress"] = [{"rule": "3.2", "reason": "debug port for the load test"}]
    report = lint_docs(tmp_path, with_service("worker", svc))
    (finding,) = of_rule(report, "3.2", "worker")
    assert finding.suppressed == "debug port for the load test"
    assert report.summary.errors == 0 and report.summary.suppressed == 1
    assert report.exit_code == 0


def test_suppression_without_reason_unknown_or_unused_is_reported(tmp_path: Path) -> None:
    svc = service(ports=["10200:10200"])
    svc["x-lint-suppress"] = [{"rule": "3.2"}, {"rule": "7.7", "reason": "x"}, {"rule": "9.3", "reason": "y"}]
    report = lint_docs(tmp_path, with_service("worker", svc))
    messages = [f.message for f in report.findings if f.service == "worker"]
    assert any("no reason: not applied" in m for m in messages)
    assert any("unknown rule '7.7'" in m for m in messages)
    assert any("matches no finding" in m for m in messages)
    assert len(errors(report, "3.2", "worker")) == 2  # the finding itself stays, plus the bad suppression
    assert report.exit_code == 1


# --- configuration -------------------------------------------------------------------------------


def test_config_sections_are_read_and_other_keys_ignored(tmp_path: Path) -> None:
    slas = write(
        tmp_path / "slas.yaml",
        "objectives: [whatever]\n"
        "pools:\n"
        "  small: {budget: 1g, tiers: [standard, critical, infrastructure, monitoring, gateway]}\n"
        "lint:\n"
        "  healthcheck: {interval: 10s}\n"
        "  cpu_affinity: {host_cores: 12}\n"
        "  publish_on_loopback: [monitoring, faultproxy]\n",
    )
    config = load_config(slas)
    assert config.healthcheck.interval == 10 and config.healthcheck.timeout == 10
    assert config.host_cores == 12
    assert config.publish_on_loopback == {"monitoring", "faultproxy"}
    report = lint_docs(tmp_path, good_stack(), config=config)
    assert len(errors(report, "1.3")) == 1  # 5 x 512M over 1 GiB


@pytest.mark.parametrize(
    ("text", "line", "cause"),
    [
        ("lint:\n  healthcheck:\n    interval: soon\n", 3, "not a duration"),
        ("lint:\n  colour: red\n", 2, "unknown key 'colour'"),
        ("pools:\n  a: {tiers: [standard]}\n", 2, "budget is required"),
        ("lint:\n  http_tiers: [agents]\n", 2, "unknown tier"),
        ("lint:\n  memory_reservation_ratio: [0.8, 0.5]\n", 2, "low <= high"),
        ("lint: [1]\n", 1, "must be a mapping"),
    ],
)
def test_bad_config_is_an_input_error_with_its_line(tmp_path: Path, text: str, line: int, cause: str) -> None:
    with pytest.raises(InputError) as caught:
        load_config(write(tmp_path / "slas.yaml", text))
    assert caught.value.line == line and cause in str(caught.value)


def test_resolved_config_takes_the_host_core_count() -> None:
    assert replace(CONFIG, host_cores=None).resolved().host_cores is not None


# --- value syntaxes ------------------------------------------------------------------------------


def test_value_syntaxes() -> None:
    assert parse_bytes("512M") == 512 * 1024**2
    assert parse_bytes("2Gi") == parse_bytes("2g") == parse_bytes("2gb") == 2 * 1024**3
    assert parse_duration("1m30s") == 90 and parse_duration("500ms") == 0.5
    spec = parse_port_short("[::1]:10400:10400/udp")
    assert (spec.host_ip, str(spec.published), str(spec.target), spec.protocol) == (
        "::1",
        "10400",
        "10400",
        "udp",
    )
    spec = parse_port_short("127.0.0.1::80")
    assert spec.published is None and spec.host_ip == "127.0.0.1"
    for bad in ("12x", "lots"):
        with pytest.raises(ValueError):
            parse_bytes(bad)
