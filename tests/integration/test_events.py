"""The engine-event follower on the real engine and a real Pushgateway (Debian's binary): a throwaway
container that crashes (`sleep 1; exit 3`, restart on-failure:3) shows 3 restarts and 4 exits with code 3
in the run's group, which is gone after stop()."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.events import DockerEngine, EventFollower, PushgatewaySink
from harness.polling import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PUSHGATEWAY = Path("/usr/bin/prometheus-pushgateway")
PROJECT = "eventstest"
RUN_ID = "events-it"


@pytest.fixture
def pushgateway() -> Iterator[str]:
    if not PUSHGATEWAY.exists():
        pytest.skip(f"{PUSHGATEWAY} is missing (apt-get install -y prometheus-pushgateway)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [
        str(PUSHGATEWAY),
        f"--web.listen-address=127.0.0.1:{port}",
        "--persistence.file=",
        "--log.level=warn",
    ]
    process = subprocess.Popen(args)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout=15, interval=0.1, what="the Pushgateway")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def client() -> Iterator[docker.DockerClient]:
    engine = docker.from_env()
    yield engine
    for leftover in engine.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}
    ):
        leftover.remove(force=True)


def group(url: str) -> dict[tuple[str, str], float]:
    """The run's engine-event samples for service crasher: (name, exit_code) -> value."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    wanted = {
        "instance": RUN_ID,
        "job": "harness_events",
        "container_label_com_docker_compose_service": "crasher",
    }
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if wanted.items() <= s.labels.items():
                out[(s.name, s.labels.get("exit_code", ""))] = s.value
    return out


def test_a_crashing_container_shows_its_restarts_and_exit_codes(
    client: docker.DockerClient, pushgateway: str
) -> None:
    labels = {"com.docker.compose.project": PROJECT, "com.docker.compose.service": "crasher"}
    container = client.containers.create(
        "debian:bookworm-slim",
        ["sh", "-c", "sleep 1; exit 3"],
        labels=labels,
        network_mode="none",
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
    )
    with EventFollower(DockerEngine(client), PROJECT, PushgatewaySink(pushgateway, RUN_ID), interval=0.2):
        assert group(pushgateway)[("harness_container_restarts_total", "")] == 0  # declared before any event
        container.start()

        def given_up() -> bool:
            container.reload()
            return container.status == "exited" and container.attrs["RestartCount"] == 3

        wait_until(given_up, timeout=60, interval=0.2, what="the policy to give up after 3 restarts")
        seen = wait_until(
            lambda: (g := group(pushgateway)).get(("harness_container_exits_total", "3")) == 4 and g,
            timeout=10,
            interval=0.2,
            what="4 exits with code 3 pushed",
        )
        assert seen[("harness_container_restarts_total", "")] == 3
        assert seen[("harness_container_starts_total", "")] == 4
        delay = seen[("harness_container_last_restart_delay_seconds", "")]
        assert 0 < delay < 5, "plain Docker restarts at once (100 ms, doubling), ignoring any policy delay"
        last_exit = seen[("harness_container_last_exit_timestamp_seconds", "")]
        assert abs(last_exit - time.time()) < 60
    assert group(pushgateway) == {}, "the group is deleted at stop"
