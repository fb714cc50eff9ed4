"""The Swarm driver on the real engine: a throwaway two-phase stack deployed with `docker stack deploy` on a
Swarm the test finds absent (skipped otherwise: it must not leave someone's Swarm), its port served on
loopback only, its cpuset applied, a killed task replaced by Swarm and the fault reverted on the service,
then the stack removed and the engine left with no Swarm."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import build_fault
from harness.images import build_images
from harness.ports import EnginePortSource
from harness.swarm.bridge import IMAGE
from harness.swarm.stack import SwarmStack

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "swarmtest.yml"
PORT = 18931


def swarm_state() -> str:
    return subprocess.run(
        ["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def get(host: str) -> int:
    with urllib.request.urlopen(f"http://{host}:{PORT}/", timeout=5) as response:
        return int(response.status)


def own_address() -> str | None:
    """An address of this host other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is chosen
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def stack() -> Iterator[SwarmStack]:
    if swarm_state() != "inactive":
        pytest.skip(
            "the engine is in a Swarm already: this test only runs on one it may initialise and leave"
        )
    build_images([IMAGE])
    running = SwarmStack.from_files([FIXTURE], "swarmtest")
    try:
        running.up(health_timeout=120)
        yield running
    finally:
        left = running.down(timeout=10)
        assert not left, left
        assert swarm_state() == "inactive"


def test_phases_health_and_loopback_only_port(stack: SwarmStack) -> None:
    assert stack.health("store") == "healthy"
    assert get("127.0.0.1") == 200
    address = own_address()
    if address is not None:
        with pytest.raises(OSError):
            get(address)
    assert stack.container("store").attrs["HostConfig"]["CpusetCpus"] == "0"
    labels = stack.container("front").labels
    assert labels["com.docker.compose.project"] == "swarmtest"
    assert labels["com.docker.compose.service"] == "front"
    # what the gateway analyzer reads: the bridge's port, counted as the service's, on loopback
    published = EnginePortSource(stack.client, "swarmtest", stack.publishers).published()
    assert [(p.service, p.host_ip, p.host_port) for p in published] == [("front", "127.0.0.1", PORT)]


def test_a_killed_task_is_replaced_and_the_fault_reverted_on_the_service(stack: SwarmStack) -> None:
    before = stack.container("store").id
    fault = build_fault(FaultSpec("container_kill", "store"), stack, "http://127.0.0.1:9")
    started = time.monotonic()
    fault.inject()
    assert fault.in_force()
    fault.revert()  # waits out Swarm's 5 s delay
    after = stack.container("store")
    assert after.id != before and after.attrs["State"]["Running"]
    assert time.monotonic() - started >= 4.0
    stack.wait_healthy(("store",), timeout=60)
    assert stack.container("store").attrs["HostConfig"]["CpusetCpus"] == "0"  # pinned again at the gate
    assert get("127.0.0.1") == 200
