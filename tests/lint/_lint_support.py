"""Builders for the lint tests: a service that follows every rule, and a way to lint a compose document.

Each rule test starts from ``good_stack()`` (which lints clean), breaks one thing, and looks at the
findings of that rule only.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from harness.lint.config import LintConfig
from harness.lint.engine import lint_model
from harness.lint.findings import Finding, Report, Severity
from harness.lint.loader import load_compose

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
SUTAZAI = SHARED / "fixtures" / "compose" / "sutazaiapp-v55"

CONFIG = LintConfig(host_cores=12)  # the rules' own core ranges, whatever machine runs the tests

PORTS = {"infrastructure": 10000, "critical": 10100, "standard": 10200, "monitoring": 10400, "gateway": 8080}
CPUSETS = {"infrastructure": "0-3", "critical": "4-7", "standard": "8-11"}


def service(tier: str = "standard", port: int | None = None, **changes: Any) -> dict[str, Any]:
    """A service of ``tier`` that follows every rule."""
    port = port or PORTS[tier]
    svc: dict[str, Any] = {
        "image": "example/app:1.0",
        "user": "1000:1000",
        "environment": {"PORT": str(port)},
        "expose": [str(port)],
        "healthcheck": {
            "test": ["CMD", "curl", "-f", f"http://localhost:{port}/health"],
            "interval": "30s",
            "timeout": "10s",
            "retries": 3,
            "start_period": "60s",
        },
        "deploy": {
            "resources": {
                "limits": {"memory": "512M", "cpus": "1.0"},
                "reservations": {"memory": "320M", "cpus": "0.6"},
            },
            "restart_policy": {
                "condition": "on-failure",
                "delay": "30s",
                "max_attempts": 3,
                "window": "300s",
            },
        },
        "networks": ["backend"],
        "labels": {"sutazai.tier": tier},
    }
    if tier in CPUSETS:
        svc["cpuset"] = CPUSETS[tier]
    if tier == "gateway":
        svc["ports"] = [f"{port}:{port}"]
        svc["networks"] = ["backend", "edge"]
    svc.update(changes)
    return svc


def good_stack() -> dict[str, Any]:
    return {
        "services": {
            "db": service("infrastructure"),
            "core": service("critical", depends_on={"db": {"condition": "service_healthy"}}),
            "worker": service("standard"),
            "metrics": service("monitoring"),
            "gateway": service("gateway", depends_on={"core": {"condition": "service_healthy"}}),
        },
        "networks": {"backend": {"internal": True}, "edge": {}},
    }


def with_service(name: str, svc: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(base or good_stack())
    doc["services"][name] = svc
    return doc


def write(path: Path, document: dict[str, Any] | str) -> Path:
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
    return path


def lint_docs(
    tmp_path: Path,
    *documents: dict[str, Any] | str,
    config: LintConfig = CONFIG,
    environ: dict[str, str] | None = None,
) -> Report:
    paths = [str(write(tmp_path / f"compose{i}.yml", doc)) for i, doc in enumerate(documents)]
    return lint_model(load_compose(paths, environ or {}, config), config)


def of_rule(report: Report, rule: str, service_name: str | None = None) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and service_name in (None, f.service)]


def errors(report: Report, rule: str, service_name: str | None = None) -> list[Finding]:
    return [
        f
        for f in of_rule(report, rule, service_name)
        if f.severity is Severity.ERROR and f.suppressed is None
    ]


def warnings(report: Report, rule: str, service_name: str | None = None) -> list[Finding]:
    return [
        f
        for f in of_rule(report, rule, service_name)
        if f.severity is Severity.WARNING and f.suppressed is None
    ]


# `docker-compose config` prints mem_limit and deploy.resources as written; what a container gets, and
# some refusals (an undeclared network), are decided when the project is built (compose/project.py), for
# `up` as here. This asks docker-compose 1.x's own code, under the interpreter its script runs on, without
# a Docker engine.
_V1_PROBE = """
import json, sys
from compose.cli.command import project_from_options
from compose.config.errors import ConfigurationError
try:
    app = project_from_options(".", {"--file": [sys.argv[1]]}).get_service("app")
except ConfigurationError as exc:
    print(json.dumps({"refused": str(exc)}))
else:
    keys = ("mem_limit", "mem_reservation", "cpus")
    print(json.dumps({**{k: app.options.get(k) for k in keys}, "scale": app.scale_num}))
"""


def _v1_interpreter() -> str | None:
    compose = shutil.which("docker-compose")
    if compose is None:
        return None
    first = Path(compose).read_bytes()[:200].split(b"\n", 1)[0]
    return first[2:].decode().strip() if first.startswith(b"#!") and b"python" in first else None


V1_PYTHON = _v1_interpreter()


def docker_compose_1_service(path: str) -> dict[str, Any]:
    """Service ``app`` of the compose file as docker-compose 1.x builds it, or ``{"refused": why}``."""
    assert V1_PYTHON is not None
    done = subprocess.run(
        [V1_PYTHON, "-c", _V1_PROBE, path],
        capture_output=True, text=True, timeout=60, check=True, cwd=Path(path).parent,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result
