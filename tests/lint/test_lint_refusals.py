"""What Compose refuses, the lint refuses: one stderr line naming file:line and the field, exit 2; and a
requested report file still holds that error in its format. Run through ``python -m harness lint``'s
entry point (``harness.cli.main``)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from _lint_support import (
    CONFIG,
    V1_PYTHON,
    docker_compose_1_service,
    good_stack,
    service,
    with_service,
    write,
)

from harness.cli import main
from harness.errors import InputError
from harness.lint.loader import load_compose

HOST_12 = "lint:\n  cpu_affinity: {host_cores: 12}\n"


def _lint(
    capsys: pytest.CaptureFixture[str], path: Path, *extra: str, compose: str = "v2"
) -> tuple[int, str, str]:
    """Lint with the rules' own core ranges (a 12-core host), whatever machine runs the tests."""
    slas = [] if "--slas" in extra else ["--slas", str(write(path.parent / "slas.yaml", HOST_12))]
    code = main(["lint", str(path), "--compose", compose, *slas, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _refused(
    capsys: pytest.CaptureFixture[str], path: Path, marker: str, *fields: str, compose: str = "v2"
) -> str:
    code, out, err = _lint(capsys, path, compose=compose)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{path}:{_line_of(path, marker)}: "), err
    for field in fields:
        assert field in err, err
    return err


# --- nothing to judge --------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["services:\n", "services: null\n", "version: '3'\nservices: {}\n"])
def test_no_services_is_an_input_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = write(tmp_path / "compose.yml", content)
    _refused(capsys, path, "services", "services is empty")


def test_services_emptied_by_no_file_of_several_still_lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write(tmp_path / "base.yml", good_stack())
    override = write(tmp_path / "override.yml", "services: {}\n")
    code = main(["lint", str(base), str(override), "--compose", "v2"])
    assert code in (0, 1) and "5 services" in capsys.readouterr().out


# --- replicas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [("replicas", -100), ("replicas", "1.5"), ("replicas", "many")])
def test_replicas_must_be_a_whole_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: object
) -> None:
    svc = service()
    svc["deploy"][key] = value
    path = write(tmp_path / "compose.yml", with_service("worker", svc))
    _refused(capsys, path, f"{key}:", "services.worker.deploy.replicas")


def test_negative_scale_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "compose.yml", with_service("worker", service(scale=-2)))
    _refused(capsys, path, "scale:", "services.worker.scale")


def test_negative_replicas_no_longer_hide_a_pool_overrun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = good_stack()
    for name, replicas in (("big", 13), ("hider", -100)):  # 13 x 512M over the 6 GiB standard pool
        svc = service()
        svc["deploy"]["replicas"] = replicas
        doc["services"][name] = svc
    path = write(tmp_path / "compose.yml", doc)
    _refused(capsys, path, "replicas: -100", "services.hider.deploy.replicas")


@pytest.mark.parametrize(
    ("compose", "scale", "refused"), [("v1", 2, True), ("v2", 2, False), ("v2", 3, True)]
)
def test_scale_with_replicas_as_each_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compose: str, scale: int, refused: bool
) -> None:
    svc = service(scale=scale)
    svc["deploy"]["replicas"] = 2
    path = write(tmp_path / "compose.yml", with_service("worker", svc))
    if refused:
        _refused(capsys, path, "replicas:", "scale and deploy.replicas", compose=compose)
    else:
        assert _lint(capsys, path, compose=compose)[0] == 0


# --- keys, names and references Compose refuses --------------------------------------------------


def _with(tmp_path: Path, name: str, **changes: Any) -> Path:
    return write(tmp_path / "compose.yml", with_service(name, service(**changes)))


def test_unknown_service_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _with(tmp_path, "worker", memory_limit="1g")
    _refused(capsys, path, "memory_limit:", "services.worker", "unknown service key 'memory_limit'")


def test_extension_keys_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _lint(capsys, _with(tmp_path, "worker", **{"x-team": "core"}))[0] == 0


@pytest.mark.parametrize(("compose", "refused"), [("v1", True), ("v2", False)])
def test_keys_newer_than_docker_compose_1_29(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compose: str, refused: bool
) -> None:
    path = _with(tmp_path, "worker", develop={"watch": [{"path": "./src", "action": "rebuild"}]})
    if refused:
        _refused(capsys, path, "develop:", "unknown service key 'develop'", compose=compose)
    else:
        assert _lint(capsys, path, compose=compose)[0] == 0


def test_undeclared_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _with(tmp_path, "worker", networks=["backend", "elsewhere"])
    _refused(capsys, path, "- elsewhere", "services.worker.networks", "'elsewhere' is not declared")


def test_the_default_network_needs_no_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _lint(capsys, _with(tmp_path, "worker", networks=["default"]))
    assert code == 1 and err == "" and "joins the default network" in out  # judged by 9.1, not refused


def test_unknown_depends_on_condition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _with(tmp_path, "worker", depends_on={"db": {"condition": "service_ready"}})
    _refused(capsys, path, "service_ready", "services.worker.depends_on.db.condition", "service_healthy")


@pytest.mark.parametrize("depends_on", [["nowhere"], {"nowhere": {"condition": "service_healthy"}}])
def test_depends_on_no_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depends_on: object
) -> None:
    path = _with(tmp_path, "worker", depends_on=depends_on)
    _refused(capsys, path, "nowhere", "services.worker.depends_on", "'nowhere' is not defined")


@pytest.mark.parametrize(("name", "shown"), [("", "an empty service name"), ("my app", "'my app'")])
def test_service_names_compose_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, shown: str
) -> None:
    path = write(tmp_path / "compose.yml", with_service(name, service()))
    marker = "? ''" if name == "" else f"{name}:"  # how yaml writes an empty key
    _refused(capsys, path, marker, shown)


# docker-compose 1.29's project loader asks the engine for its API version: an engine must answer.
@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.skipif(V1_PYTHON is None, reason="docker-compose 1.x is not installed")
@pytest.mark.parametrize(
    "app",
    [
        {"memory_limit": "1g"},
        {"networks": ["nowhere"]},
        {"depends_on": {"db": {"condition": "service_ready"}}},
        {"depends_on": ["nowhere"]},
        {"scale": 2, "deploy": {"replicas": 2}},
    ],
)
def test_docker_compose_1_refuses_these_too(tmp_path: Path, app: dict[str, Any]) -> None:
    path = str(
        write(tmp_path / "compose.yml", {"services": {"app": {"image": "a", **app}, "db": {"image": "b"}}})
    )
    assert "refused" in docker_compose_1_service(path)
    with pytest.raises(InputError):
        load_compose([path], {}, replace(CONFIG, compose="v1"))


# --- a requested report file holds the input error ----------------------------------------------


def _broken(tmp_path: Path) -> Path:
    return _with(tmp_path, "worker", depends_on={"db": {"condition": "service_ready"}})


def _report_of(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> tuple[str, str]:
    path, out = _broken(tmp_path), tmp_path / f"report.{fmt}"
    code, stdout, err = _lint(capsys, path, "--format", fmt, "--output", str(out))
    assert (code, stdout) == (2, "") and err.count("\n") == 1 and "service_ready" in err
    return out.read_text(), str(path)


def test_json_report_holds_the_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, path = _report_of(tmp_path, capsys, "json")
    document = json.loads(text)
    (finding,) = document["findings"]
    assert finding["rule"] == "input" and finding["severity"] == "error" and finding["file"] == path
    assert "unknown condition 'service_ready'" in finding["message"] and finding["line"] > 1
    assert document["summary"] == {"services": 0, "errors": 1, "warnings": 0}


def test_sarif_report_holds_the_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, _ = _report_of(tmp_path, capsys, "sarif")
    (run,) = json.loads(text)["runs"]
    (result,) = run["results"]
    assert result["ruleId"] == "input" and result["level"] == "error"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "input"
    assert "unknown condition 'service_ready'" in result["message"]["text"]
    assert run["invocations"] == [{"executionSuccessful": False}]


def test_junit_report_holds_the_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, path = _report_of(tmp_path, capsys, "junit")
    suites = ET.fromstring(text)
    assert suites.get("errors") == "1" and suites.get("failures") == "0"
    (case,) = suites.iter("testcase")
    error = case.find("error")
    assert case.get("classname") == path and error is not None
    assert "unknown condition 'service_ready'" in (error.get("message") or "")


def test_an_unreadable_slas_yaml_also_fills_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slas = write(tmp_path / "slas.yaml", "lint:\n  forbidden_ports: lots\n")
    out = tmp_path / "report.json"
    code, _, err = _lint(capsys, write(tmp_path / "c.yml", good_stack()), "--slas", str(slas), "--format",
                         "json", "--output", str(out))  # fmt: skip
    assert code == 2 and err.startswith(f"{slas}:2: ")
    assert json.loads(out.read_text())["findings"][0]["file"] == str(slas)
