"""Swarm mode on the engine, left as found: initialised only when none exists, left only if we did.

``docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377`` makes a single-node Swarm
whose manager listens and advertises on loopback only. Before it, a marker is written (``state_dir("_swarm")/initialised.json``): a run killed before its
teardown leaves the marker, and ``harness clean`` or the next run finds it and knows the Swarm is the
harness's own, to leave. A Swarm that was there before (no marker) is never left: only our stack is removed
from it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StackError
from harness.state import state_dir
from harness.swarm.cli import DockerCli, docker_cli

ADVERTISE_ADDR = "127.0.0.1"
LISTEN_ADDR = "127.0.0.1:2377"
"""The manager's API on loopback: by default ``swarm init`` listens on 0.0.0.0:2377, every interface."""
MARKER_NAME = "initialised.json"


def marker_path() -> Path:
    return state_dir("_swarm") / MARKER_NAME


@dataclass(slots=True)
class SwarmMode:
    docker: DockerCli = docker_cli
    marker: Path | None = None
    owned: bool = False
    """The harness initialised this Swarm (now, or in a run that crashed): it leaves it."""

    def _marker(self) -> Path:
        return self.marker or marker_path()

    def state(self) -> str:
        """The node's Swarm state: inactive, active, pending, error or locked."""
        return self.docker("info", "--format", "{{.Swarm.LocalNodeState}}", timeout=30).strip()

    def ensure(self) -> bool:
        """An active single-node Swarm, initialised here if none exists; True if the harness owns it."""
        state, marker = self.state(), self._marker()
        if state == "active":
            self.owned = marker.exists()  # ours if a crashed run initialised it
            return self.owned
        if state != "inactive":
            raise StackError(f"the engine's Swarm is {state}: neither active nor absent, not touching it")
        # The marker first: a crash between the two leaves a marker and no Swarm, which release() forgives.
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"pid": os.getpid(), "since": time.time()}) + "\n")
        self.owned = True
        self.docker(
            "swarm", "init", "--advertise-addr", ADVERTISE_ADDR, "--listen-addr", LISTEN_ADDR, timeout=60
        )
        return True

    def release(self) -> str | None:
        """Leave the Swarm if the harness initialised it; what was done (None: nothing, it was not ours)."""
        marker = self._marker()
        if not (self.owned or marker.exists()):
            return None
        if self.state() != "inactive":
            self.docker("swarm", "leave", "--force", timeout=60)
        marker.unlink(missing_ok=True)
        self.owned = False
        return "left the Swarm the harness had initialised"
