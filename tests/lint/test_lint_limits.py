"""mem_limit, mem_reservation and cpus against deploy.resources, as each Compose CLI resolves them.

v1 is docker-compose 1.29 (compose/project.py, translate_deploy_keys_to_container_config): checked here
case by case and, in test_lint_properties.py, against the installed docker-compose itself. v2 (compose-go
loader/validate.go checkConsistency; docker/compose pkg/compose/create.go setLimits/setReservations)
cannot be installed here: these cases follow its source and documentation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from _lint_support import CONFIG, errors, lint_docs, service, warnings, with_service, write

from harness.errors import InputError
from harness.lint.loader import load_compose
from harness.lint.model import Service

GIB, MIB = 1024**3, 1024**2


def _resolved(tmp_path: Path, compose: str, **keys: Any) -> Service:
    svc = {"image": "example/app:1", **keys}
    path = write(tmp_path / "compose.yml", {"services": {"app": svc}})
    config = replace(CONFIG, compose=compose)  # type: ignore[arg-type]
    app = load_compose([str(path)], {}, config).service("app")
    assert app is not None
    return app


def _deploy(
    limits: dict[str, Any] | None = None, reservations: dict[str, Any] | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if limits is not None:
        resources["limits"] = limits
    if reservations is not None:
        resources["reservations"] = reservations
    return {"resources": resources}


def _values(app: Service) -> tuple[int | None, int | None, float | None]:
    return (
        app.mem_limit.value if app.mem_limit else None,
        app.mem_reservation.value if app.mem_reservation else None,
        app.cpu_limit.value if app.cpu_limit else None,
    )


@pytest.mark.parametrize("compose", ["v1", "v2"])
def test_either_spelling_alone_is_the_limit(tmp_path: Path, compose: str) -> None:
    legacy = _resolved(tmp_path, compose, mem_limit="1g", mem_reservation="512m", cpus=0.5)
    assert _values(legacy) == (GIB, 512 * MIB, 0.5)
    deploy = _resolved(tmp_path, compose, deploy=_deploy({"memory": "1g", "cpus": "0.5"}, {"memory": "512m"}))
    assert _values(deploy) == (GIB, 512 * MIB, 0.5)


def test_v1_deploy_limits_replace_mem_limit_even_without_memory(tmp_path: Path) -> None:
    app = _resolved(
        tmp_path, "v1", mem_limit="1g", cpus=0.5, deploy=_deploy({"cpus": "1.5"}, {"cpus": "0.2"})
    )
    assert _values(app) == (None, None, 1.5)  # what the real docker-compose 1.29.2 gives (mem_limit None)
    (dropped,) = app.discarded
    assert "drops mem_limit 1 GiB" in dropped.value and "without memory" in dropped.value


def test_v1_deploy_limits_without_cpus_keep_cpus(tmp_path: Path) -> None:
    app = _resolved(tmp_path, "v1", mem_limit="1g", cpus=0.5, deploy=_deploy({"memory": "2g"}))
    assert _values(app) == (2 * GIB, None, 0.5) and app.discarded == ()


def test_v1_dropped_limit_is_a_1_1_finding(tmp_path: Path) -> None:
    svc = service(mem_limit="512M")
    del svc["deploy"]["resources"]["limits"]["memory"]
    config = replace(CONFIG, compose="v1")
    report = lint_docs(tmp_path, with_service("worker", svc), config=config)
    assert "no memory limit" in errors(report, "1.1", "worker")[0].message
    assert "drops mem_limit 512 MiB" in warnings(report, "1.1", "worker")[0].message


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"mem_limit": "1g", "deploy": _deploy({"memory": "2g"})}, "mem_limit 1 GiB and deploy.resources.limits.memory 2 GiB"),
        ({"mem_limit": "1g", "deploy": _deploy({"cpus": "1"})}, "deploy.resources.limits.memory not set"),
        ({"cpus": 0.5, "deploy": _deploy({"cpus": "1"})}, "cpus 0.5 and deploy.resources.limits.cpus 1"),
        ({"mem_reservation": "1g", "deploy": _deploy(reservations={"memory": "2g"})}, "mem_reservation 1 GiB"),
    ],
)  # fmt: skip
def test_v2_refuses_distinct_values(tmp_path: Path, keys: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        _resolved(tmp_path, "v2", **keys)
    assert field in str(caught.value) and "services.app:" in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'compose.yml'}:")


def test_v2_accepts_equal_values_and_deploy_wins(tmp_path: Path) -> None:
    app = _resolved(
        tmp_path, "v2", mem_limit="1024m", cpus="1", deploy=_deploy({"memory": "1g", "cpus": 1.0})
    )
    assert _values(app) == (GIB, None, 1.0)
    assert app.mem_limit is not None and app.mem_limit.loc.line > app.loc.line + 2  # the deploy line


def test_v2_mem_limit_without_a_limits_block_stands(tmp_path: Path) -> None:
    app = _resolved(tmp_path, "v2", mem_limit="1g", deploy=_deploy(reservations={"memory": "512m"}))
    assert _values(app) == (GIB, 512 * MIB, None)
