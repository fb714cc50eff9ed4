"""Property tests: random service definitions never crash the lint; -f overrides merge like Compose; resource
keys resolve like the installed docker-compose 1.29."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from _lint_support import CONFIG, V1_PYTHON, docker_compose_1_service, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.lint.engine import lint_model
from harness.lint.formats import RENDERERS
from harness.lint.loader import load_compose
from harness.lint.units import parse_bytes, parse_port_short


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lint-props-") as name:
        yield Path(name)


# --- never crash ---------------------------------------------------------------------------------

PLAUSIBLE = st.sampled_from(
    ["512M", "2g", "0.5", "30s", "1m", "8080:80", "127.0.0.1:10400:10400", "10000-10002:10000-10002",
     "on-failure:3", "always", "service_healthy", "0-3", "1000:1000", "root", "${X:-1}", "$$", "NONE", "",
     "internal", "host", "sutazai.tier=critical", "PASSWORD=abc", "http://u:p@h/"]
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False, width=32),
                    st.text(max_size=12), PLAUSIBLE)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["condition", "memory", "cpus", "test", "target", "published",
                                                   "internal", "external", "rule", "reason", "max_attempts",
                                                   "limits", "reservations", "resources", "restart_policy"]),
                                  st.text(max_size=6)), children, max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip
KEYS = st.sampled_from(
    ["image", "user", "ports", "expose", "environment", "labels", "healthcheck", "deploy", "restart", "cpuset",
     "cpus", "mem_limit", "mem_reservation", "depends_on", "networks", "network_mode", "command", "build",
     "x-lint-suppress", "cpu_quota", "scale", "entrypoint"]
)  # fmt: skip
SERVICE = st.dictionaries(KEYS, VALUES, max_size=8)
DOCUMENT = st.fixed_dictionaries(
    {
        "services": st.dictionaries(
            st.sampled_from(["a", "b", "ollama", "gateway", "claude"]), SERVICE, max_size=4
        )
    },
    optional={"networks": st.dictionaries(st.sampled_from(["n", "default"]), VALUES, max_size=2)},
)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(DOCUMENT, min_size=1, max_size=2))
def test_random_services_never_crash_the_lint(workdir: Path, documents: list[dict[str, Any]]) -> None:
    paths = [str(write(workdir / f"random{i}.yml", yaml.safe_dump(doc))) for i, doc in enumerate(documents)]
    try:
        report = lint_model(load_compose(paths, {"X": "1"}, CONFIG), CONFIG)
    except InputError as exc:
        assert str(exc).startswith(str(workdir)), exc  # names the file it could not read
        return
    for render in RENDERERS.values():
        assert render(report)
    assert report.exit_code in (0, 1)


# --- merging like Compose -------------------------------------------------------------------------

ENV = st.dictionaries(
    st.sampled_from(["A", "B", "C", "PORT"]), st.sampled_from(["1", "2", "x y"]), max_size=3
)
PORTS = st.lists(st.sampled_from(["10200:10200", "10201:10201", "127.0.0.1:10202:10202", "10203"]), max_size=3,
                 unique=True)  # fmt: skip
OVERRIDE = st.fixed_dictionaries(
    {},
    optional={
        "image": st.sampled_from(["img/a:1", "img/b:2"]),
        "command": st.lists(st.sampled_from(["run", "serve", "-v"]), min_size=1, max_size=3),
        "environment": st.one_of(ENV, ENV.map(lambda env: [f"{k}={v}" for k, v in env.items()])),
        "ports": PORTS,
        "healthcheck": st.fixed_dictionaries(
            {}, optional={"test": st.sampled_from([["CMD", "a"], ["CMD", "b", "c"]]), "interval": st.sampled_from(["5s", "30s"])}
        ),
    },
)  # fmt: skip


def _as_env(value: object) -> dict[str, str]:
    if isinstance(value, list):
        return dict(item.split("=", 1) for item in value)
    return dict(value)  # type: ignore[call-overload]


def _reference_merge(overrides: list[dict[str, Any]]) -> dict[str, Any]:
    """What Compose does, written plainly: scalars and command replaced, environment by key, ports unique."""
    merged: dict[str, Any] = {"environment": {}, "ports": [], "healthcheck": {}, "env_file": {}}
    for index, override in enumerate(overrides):
        for key in ("image", "command"):
            if key in override:
                merged[key] = override[key]
        env = _as_env(override.get("environment", {}))
        merged["environment"].update(env)
        merged["env_file"].update(dict.fromkeys(env, index))
        merged["ports"] += [p for p in override.get("ports", []) if p not in merged["ports"]]
        merged["healthcheck"].update(override.get("healthcheck", {}))
    return merged


@settings(max_examples=120, deadline=None)
@given(overrides=st.lists(OVERRIDE, min_size=1, max_size=4))
def test_override_order_merges_like_compose(workdir: Path, overrides: list[dict[str, Any]]) -> None:
    paths = [str(write(workdir / f"o{i}.yml", {"services": {"app": o}})) for i, o in enumerate(overrides)]
    app = load_compose(paths, {}, CONFIG).service("app")
    assert app is not None
    want = _reference_merge(overrides)
    assert app.image == want.get("image")
    assert app.command == " ".join(want.get("command", []))
    assert {k: v.value for k, v in app.environment.items()} == want["environment"]
    for key, located in app.environment.items():  # the winning value's file is the last one that set it
        assert located.loc.file == paths[want["env_file"][key]]
    assert [_short(p.value) for p in app.ports] == want["ports"]
    hc = want["healthcheck"]
    if hc:
        assert app.healthcheck is not None
        assert (app.healthcheck.test.value if app.healthcheck.test else None) == (
            " ".join(hc["test"]) if "test" in hc else None
        )
        assert (app.healthcheck.interval.value if app.healthcheck.interval else None) == (
            {"5s": 5.0, "30s": 30.0}[hc["interval"]] if "interval" in hc else None
        )


def _short(spec: Any) -> str:
    host = f"{spec.host_ip}:" if spec.host_ip else ""
    return f"{host}{spec.published}:{spec.target}" if spec.published else str(spec.target)


COMPOSE = shutil.which("docker-compose")


def _compose_port(entry: str | dict[str, Any]) -> tuple[str, str]:
    """``docker-compose config`` prints ports long-form, or short-form when a host IP is bound."""
    if isinstance(entry, str):
        spec = parse_port_short(entry)
        return str(spec.published or ""), str(spec.target)
    return str(entry.get("published", "")), str(entry["target"])


@pytest.mark.slow
@pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")
@settings(max_examples=6, deadline=None)
@given(overrides=st.lists(OVERRIDE, min_size=2, max_size=3))
def test_merge_agrees_with_docker_compose_config(workdir: Path, overrides: list[dict[str, Any]]) -> None:
    assert COMPOSE is not None
    docs = [{"version": "3.8", "services": {"app": {"image": "img/base:0", **o}}} for o in overrides]
    paths = [str(write(workdir / f"dc{i}.yml", doc)) for i, doc in enumerate(docs)]
    args = [COMPOSE, *(arg for p in paths for arg in ("-f", p)), "config"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True, cwd=workdir)
    theirs = yaml.safe_load(done.stdout)["services"]["app"]
    ours = load_compose(paths, {}, CONFIG).service("app")
    assert ours is not None
    assert ours.image == theirs["image"]
    assert ours.command == " ".join(theirs.get("command", []))
    assert {k: v.value for k, v in ours.environment.items()} == {
        k: str(v) for k, v in theirs.get("environment", {}).items()
    }
    their_ports = {_compose_port(p) for p in theirs.get("ports", [])}
    our_ports = {(str(p.value.published or ""), str(p.value.target)) for p in ours.ports}
    assert our_ports == their_ports


# --- resource keys resolved like docker-compose 1.29 ----------------------------------------------

MEMORY = st.sampled_from(["256m", "512M", "1g", "1536m"])
CPUS = st.sampled_from(["0.5", "1.5", "2"])
RESOURCES = st.fixed_dictionaries({}, optional={"memory": MEMORY, "cpus": CPUS})
# deploy.resources is always written (its limits and reservations may not be): the two spellings meet.
RESOURCE_KEYS = st.fixed_dictionaries(
    {
        "deploy": st.fixed_dictionaries(
            {
                "resources": st.fixed_dictionaries(
                    {}, optional={"limits": RESOURCES, "reservations": RESOURCES}
                )
            },
            optional={"replicas": st.integers(0, 3)},
        )
    },
    optional={
        "mem_limit": MEMORY,
        "mem_reservation": MEMORY,
        "cpus": st.sampled_from([0.25, 1.0]),
        "scale": st.integers(0, 3),
    },
)


# docker-compose 1.29's project loader asks the engine for its API version: an engine must answer.
@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.skipif(V1_PYTHON is None, reason="docker-compose 1.x is not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=RESOURCE_KEYS)
@example(keys={"mem_limit": "1g", "cpus": 0.25, "deploy": {"resources": {"limits": {"cpus": "1.5"}}}})
def test_limits_resolve_like_docker_compose_1(workdir: Path, keys: dict[str, Any]) -> None:
    path = str(
        write(workdir / "limits.yml", {"version": "3.8", "services": {"app": {"image": "img/a:1", **keys}}})
    )
    theirs = docker_compose_1_service(path)
    config = replace(CONFIG, compose="v1")
    if "refused" in theirs:
        with pytest.raises(InputError):
            load_compose([path], {}, config)
        return
    ours = load_compose([path], {}, config).service("app")
    assert ours is not None
    for mine, their in (
        (ours.mem_limit, theirs["mem_limit"]),
        (ours.mem_reservation, theirs["mem_reservation"]),
    ):
        assert (mine.value if mine else None) == (parse_bytes(their) if their is not None else None)
    assert (ours.cpu_limit.value if ours.cpu_limit else None) == theirs["cpus"]
    assert ours.replicas == theirs["scale"]
