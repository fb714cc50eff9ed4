"""Only a label or configuration makes a service the gateway, or grants a tier's exceptions; a tier inferred
from a name or image may only make the rules stricter. Through ``python -m harness lint``'s entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _lint_support import good_stack, service, with_service, write

from harness.cli import main

NAME = "code-quality-gateway-sonarqube"


def _findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: dict[str, Any], lint: str = ""
) -> tuple[int, list[dict[str, Any]]]:
    slas = write(tmp_path / "slas.yaml", "lint:\n  cpu_affinity: {host_cores: 12}\n" + lint)
    path = write(tmp_path / "compose.yml", doc)
    code = main(["lint", str(path), "--slas", str(slas), "--format", "json", "--compose", "v2"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)["findings"]


def _unlabelled(name: str, tier: str = "gateway", **changes: Any) -> dict[str, Any]:
    """A stack with ``name``: a service of ``tier`` that follows every rule, without its tier label."""
    svc = service(tier, **changes)
    del svc["labels"]
    return with_service(name, svc)


def _errors(findings: list[dict[str, Any]], name: str) -> set[str]:
    return {f["rule"] for f in findings if f["service"] == name and f["severity"] == "error"}


def test_a_gateway_name_grants_no_gateway_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, findings = _findings(tmp_path, capsys, _unlabelled(NAME))
    assert code == 1
    assert {"3.2", "5.2", "12.2", "9.1"} <= _errors(findings, NAME)  # publishes 8080 on a non-internal net
    (published,) = [f for f in findings if f["service"] == NAME and f["rule"] == "3.2"]
    assert "inferred from name 'gateway' as infrastructure, not the gateway" in published["message"]


def test_a_gateway_image_grants_no_gateway_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, findings = _findings(tmp_path, capsys, _unlabelled("edge", image="kong:3"))
    assert code == 1 and {"3.2", "5.2", "12.2"} <= _errors(findings, "edge")


def test_the_label_makes_the_gateway(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = with_service(NAME, service("gateway"))
    del doc["services"]["gateway"]  # one gateway: the labelled one
    assert _findings(tmp_path, capsys, doc)[0] == 0


def test_configuration_makes_the_gateway(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _unlabelled(NAME)
    del doc["services"]["gateway"]
    code, findings = _findings(tmp_path, capsys, doc, f"  service_tiers: {{{NAME}: gateway}}\n")
    assert (code, _errors(findings, NAME)) == (0, set())


def test_an_unknown_configured_tier_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slas = write(tmp_path / "slas.yaml", "lint:\n  service_tiers:\n    edge: gatekeeper\n")
    path = write(tmp_path / "compose.yml", good_stack())
    assert main(["lint", str(path), "--slas", str(slas)]) == 2
    assert capsys.readouterr().err.startswith(f"{slas}:3: lint.service_tiers.edge: unknown tier 'gatekeeper'")


def test_an_inferred_tier_does_not_publish_on_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback = "  publish_on_loopback: [monitoring]\n"
    labelled = with_service("prometheus", service("monitoring", ports=["127.0.0.1:10400:10400"]))
    assert _errors(_findings(tmp_path, capsys, labelled, loopback)[1], "prometheus") == set()
    inferred = _unlabelled(
        "prometheus", ports=["127.0.0.1:10400:10400"], networks=["backend"], expose=["10400"]
    )
    inferred["services"]["prometheus"]["environment"] = {"PORT": "10400"}
    assert "3.2" in _errors(_findings(tmp_path, capsys, inferred, loopback)[1], "prometheus")


def test_an_inferred_monitoring_tier_is_still_asked_to_pin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _unlabelled("prometheus", "monitoring")
    _, findings = _findings(tmp_path, capsys, doc)
    assert [f["rule"] for f in findings if f["service"] == "prometheus"] == ["1.2"]  # a warning, no exception
