"""Find a Docker engine that answers, or install and start one where that is safe to do.

Policy (the README's "fresh machine" promise): use the engine that answers; where none answers and the
host is Debian and we are root, install Debian's docker.io (plus docker-compose when no Compose CLI
exists) and start dockerd with its log in a file, saying so; anywhere else stop with one line that says
what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import EngineError
from harness.polling import wait_until

DOCKERD_LOG = Path("/var/log/harness-dockerd.log")
# Written when we start dockerd ourselves, so that whoever started it (CI) can stop it again.
DOCKERD_PIDFILE = Path("/run/harness-dockerd.pid")


@dataclass(frozen=True, slots=True)
class Engine:
    """An engine that answered: its server version and the Compose command to drive it."""

    server_version: str
    compose_command: tuple[str, ...]
    started_by_us: bool


def _say(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def engine_version() -> str | None:
    """The server version if an engine answers on the default socket, else None."""
    if shutil.which("docker") is None:
        return None
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    version = result.stdout.strip()
    return version if result.returncode == 0 and version else None


def compose_command() -> tuple[str, ...] | None:
    """`docker compose` (v2) where present, else `docker-compose --compatibility` (v1)."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        # v1 applies deploy.resources and deploy.restart_policy only in compatibility mode.
        return ("docker-compose", "--compatibility")
    return None


def _is_debian_root() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def _apt_install(packages: list[str]) -> None:
    _say(f"installing {' '.join(packages)} with apt-get (log: /var/log/harness-apt.log)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open("/var/log/harness-apt.log", "ab") as log:
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
            if subprocess.run(argv, stdout=log, stderr=log, env=env, check=False).returncode != 0:
                raise EngineError(f"`{' '.join(argv)}` failed; see /var/log/harness-apt.log")


def _start_dockerd() -> None:
    _say(f"starting dockerd (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as log:
        process = subprocess.Popen(
            ["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
    DOCKERD_PIDFILE.write_text(f"{process.pid}\n")
    wait_until(
        lambda: engine_version() is not None,
        timeout=60,
        interval=0.5,
        what=f"dockerd to answer (see {DOCKERD_LOG})",
        error=EngineError,
    )


def ensure_engine() -> Engine:
    """Return an answering engine, installing and starting one on Debian as root if need be."""
    started = False
    if engine_version() is None:
        if not _is_debian_root():
            raise EngineError(
                "no Docker engine answers: install Docker (engine and Compose) and start it, then retry"
            )
        missing = [] if shutil.which("dockerd") else ["docker.io"]
        if compose_command() is None:
            missing.append("docker-compose")
        if missing:
            _apt_install(missing)
        _start_dockerd()
        started = True
    elif compose_command() is None and _is_debian_root():
        _apt_install(["docker-compose"])
    command = compose_command()
    if command is None:
        raise EngineError("no Compose CLI: install the `docker compose` plugin or `docker-compose`")
    version = engine_version()
    if version is None:
        raise EngineError("the Docker engine stopped answering")
    return Engine(server_version=version, compose_command=command, started_by_us=started)


def stop_engine_we_started(grace: float = 30.0) -> bool:
    """Stop a dockerd this module started (found by its pid file); True if one was stopped."""
    try:
        pid = int(DOCKERD_PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return False
    DOCKERD_PIDFILE.unlink(missing_ok=True)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    os.kill(pid, 9)
    return True
