"""A Docker engine other than the local socket is refused without --allow-remote-engine: through the real
entry point, in one line naming the engine, exit 2, before any connection is attempted (the "engine" is
a loopback listener of the test's own that must never see a connection). And the load's target stays
loopback unless the same switch is given for a gateway slas.yaml names."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.catalogue.model import LoadLevel
from harness.load import LoadError, LocustSettings, check_loopback
from harness.load.locustload import build_env
from harness.remote import DEFAULT_ENGINE, RemoteEngineRefused, guard_engine, resolve_engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "load"))  # loopback.py, the locustfile's own check (free of Locust)
from loopback import loopback_refusal  # noqa: E402

ENGINE_COMMANDS = [["engine", "ensure"], ["build"], ["up"], ["down"], ["status"], ["clean"], ["run"]]


@pytest.fixture
def silent_engine() -> Iterator[tuple[str, socket.socket]]:
    """A TCP listener on loopback posing as a remote engine; the test checks nothing connected to it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}", listener


def harness(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_never_connected(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        listener.accept()


@pytest.mark.parametrize("command", ENGINE_COMMANDS, ids=lambda c: c[0])
def test_docker_host_of_another_engine_is_refused_in_one_line_before_connecting(command, silent_engine):
    url, listener = silent_engine
    result = harness(*command, DOCKER_HOST=url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"harness {command[0]}: refusing the Docker engine {url} (from DOCKER_HOST): only the local unix "
        "socket is driven without --allow-remote-engine"
    ]
    assert result.stdout == ""
    assert_never_connected(listener)


def test_the_remote_address_of_the_issue_is_refused_too():
    result = harness("status", DOCKER_HOST="tcp://10.1.2.3:2375")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "tcp://10.1.2.3:2375" in result.stderr


def test_the_docker_host_option_is_refused_like_the_variable(silent_engine):
    url, listener = silent_engine
    result = harness("down", "--docker-host", url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"harness down: refusing the Docker engine {url} (from --docker-host): only the local unix socket "
        "is driven without --allow-remote-engine"
    ]
    assert_never_connected(listener)


def test_pytest_run_without_harness_run_is_guarded_too(silent_engine):
    url, listener = silent_engine
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios", "-p", "harness.pytest_plugin", "--collect-only", "-q"],
        env={**clean, "DOCKER_HOST": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"refusing the Docker engine {url}" in result.stdout + result.stderr
    assert_never_connected(listener)


def write_context(config: Path, name: str, host: str) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps({"currentContext": name}))
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_a_docker_context_pointing_elsewhere_is_refused_and_names_the_context(tmp_path, silent_engine):
    url, listener = silent_engine
    write_context(tmp_path / "docker", "far", url)
    result = harness("status", DOCKER_CONFIG=str(tmp_path / "docker"))
    assert result.returncode == 2
    assert f"refusing the Docker engine {url} (from docker context 'far')" in result.stderr
    assert_never_connected(listener)


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        (None, {}, DEFAULT_ENGINE),
        (None, {"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "unix:///run/user/1000/docker.sock"),
        ("unix:///tmp/d.sock", {"DOCKER_HOST": "tcp://10.1.2.3:2375"}, "unix:///tmp/d.sock"),
        (None, {"DOCKER_CONTEXT": "default"}, DEFAULT_ENGINE),
    ],
)
def test_local_sockets_pass_without_the_switch(tmp_path, option, env, expected):
    engine = resolve_engine(option, env, home=tmp_path)
    assert engine.local and engine.url == expected
    assert guard_engine(argparse.Namespace(docker_host=option), dict(env)).url == expected


def test_a_local_socket_named_by_the_option_or_a_context_is_exported_for_the_sdk_and_the_docker_cli(tmp_path):
    # The SDK ignores contexts and the option; the harness's own `docker pull` and `docker build` would
    # otherwise drive the default socket while Compose drives the one asked for.
    env: dict[str, str] = {}
    guard_engine(argparse.Namespace(docker_host="unix:///tmp/d.sock"), env)
    assert env["DOCKER_HOST"] == "unix:///tmp/d.sock"
    write_context(tmp_path / "docker", "rootless", "unix:///run/user/1000/docker.sock")
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "DOCKER_CONTEXT": "rootless"}
    guard_engine(argparse.Namespace(), env)
    assert env["DOCKER_HOST"] == "unix:///run/user/1000/docker.sock"
    untouched = {"DOCKER_CONFIG": str(tmp_path / "empty")}
    guard_engine(argparse.Namespace(), untouched)
    assert "DOCKER_HOST" not in untouched


def test_an_unreadable_context_counts_as_remote(tmp_path):
    engine = resolve_engine(None, {"DOCKER_CONTEXT": "gone"}, home=tmp_path)
    assert not engine.local
    with pytest.raises(RemoteEngineRefused, match="unreadable context"):
        guard_engine(argparse.Namespace(), {"DOCKER_CONTEXT": "gone", "HOME": str(tmp_path)})


def test_the_switch_lets_a_remote_engine_through_and_exports_it_for_the_sdk_and_compose(tmp_path):
    write_context(tmp_path / "docker", "far", "ssh://ops@far")
    env = {"DOCKER_CONFIG": str(tmp_path / "docker")}
    engine = guard_engine(argparse.Namespace(allow_remote_engine=True), env)
    assert engine.url == "ssh://ops@far" and env["DOCKER_HOST"] == "ssh://ops@far"


def test_a_remote_gateway_needs_the_switch_and_then_only_that_host_passes_the_locustfile(tmp_path):
    gateway = "http://gateway.lab:8080"
    with pytest.raises(LoadError, match="not loopback"):
        check_loopback(gateway)
    check_loopback(gateway, remote_allowed=True)
    with pytest.raises(LoadError, match="not an http"):
        check_loopback("ftp://gateway.lab", remote_allowed=True)
    level = LoadLevel(users=1, spawn_rate=1, rate=1)
    refused = build_env(LocustSettings(Path("f.py"), gateway), level, "r", tmp_path / "p", {}, 1)
    allowed = build_env(
        LocustSettings(Path("f.py"), gateway, allow_remote_host=True), level, "r", tmp_path / "p", {}, 1
    )
    assert "LOAD_REMOTE_HOST" not in refused
    assert loopback_refusal(gateway, allowed["LOAD_REMOTE_HOST"]) is None
    assert loopback_refusal("http://other.lab:8080", allowed["LOAD_REMOTE_HOST"])
