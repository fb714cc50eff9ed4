"""Which Docker engine a command would drive, and the refusal of a remote one without a switch.

Chaos on the wrong engine is the most expensive mistake this tool can make: a DOCKER_HOST left set in a
shell (or a `docker context use` months ago) would point the faults at someone else's machines. So every
command that touches the engine resolves the engine's address the way the docker CLI does (``--docker-
host``, then DOCKER_HOST, then DOCKER_CONTEXT or the config's current context) from files and the
environment only, and refuses anything but a unix socket unless ``--allow-remote-engine`` is given: before
any connection is attempted. An engine that is not the default (named by the option or a context, local or
allowed remote) is exported as DOCKER_HOST, so the docker SDK (which ignores contexts and the option), the
docker CLI the harness runs (pulls, builds) and the Compose CLI all drive that same engine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

LOCAL_SCHEME = "unix://"
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
ALLOW_DEST = "allow_remote_engine"
"""Commands whose namespace has this attribute are guarded by the CLI before they run."""


class RemoteEngineRefused(HarnessError):
    """A command would drive an engine other than the local socket, and the switch was not given."""


@dataclass(frozen=True, slots=True)
class EngineAddress:
    url: str
    source: str
    """Where the address came from: --docker-host, DOCKER_HOST, a context, or the default."""

    @property
    def local(self) -> bool:
        return self.url.startswith(LOCAL_SCHEME)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--docker-host",
        metavar="URL",
        help="the Docker engine to drive, like DOCKER_HOST (default: DOCKER_HOST, else the docker context)",
    )
    parser.add_argument(
        "--allow-remote-engine",
        action="store_true",
        dest=ALLOW_DEST,
        help="drive an engine that is not the local unix socket, and load a non-loopback gateway that "
        "slas.yaml names explicitly (refused without it)",
    )


def resolve_engine(option: str | None, env: Mapping[str, str], home: Path | None = None) -> EngineAddress:
    """The engine the docker CLI would use, read from the option, the environment and the docker config."""
    if option:
        return EngineAddress(option, "--docker-host")
    if env.get("DOCKER_HOST"):
        return EngineAddress(env["DOCKER_HOST"], "DOCKER_HOST")
    config = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else (home or Path.home()) / ".docker"
    context = env.get("DOCKER_CONTEXT") or _current_context(config)
    if not context or context == "default":
        return EngineAddress(DEFAULT_ENGINE, "default")
    return EngineAddress(_context_host(config, context), f"docker context {context!r}")


def guard_engine(args: argparse.Namespace, env: MutableMapping[str, str] | None = None) -> EngineAddress:
    """Refuse a remote engine without the switch (RemoteEngineRefused, exit 2); export the one driven."""
    env = os.environ if env is None else env
    engine = resolve_engine(getattr(args, "docker_host", None), env)
    if not engine.local and not getattr(args, ALLOW_DEST, False):
        raise RemoteEngineRefused(
            f"refusing the Docker engine {engine.url} (from {engine.source}): only the local unix socket "
            "is driven without --allow-remote-engine"
        )
    if engine.source != "default":
        env["DOCKER_HOST"] = engine.url
    return engine


def _current_context(config: Path) -> str | None:
    try:
        value = json.loads((config / "config.json").read_text(encoding="utf-8")).get("currentContext")
    except (OSError, ValueError, AttributeError):
        return None  # no config, or one the docker CLI would not read either: the default context
    return value if isinstance(value, str) else None


def _context_host(config: Path, context: str) -> str:
    """The context's engine address; a context that cannot be read counts as remote (never as local)."""
    meta = config / "contexts" / "meta" / hashlib.sha256(context.encode()).hexdigest() / "meta.json"
    try:
        host = json.loads(meta.read_text(encoding="utf-8"))["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"(unreadable context {meta})"
    return host if isinstance(host, str) and host else f"(context without a host: {meta})"
