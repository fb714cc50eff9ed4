"""The exporter against the real Docker engine: throwaway labelled containers (OOM-killed, paused, limited)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from _services import free_port, has_debian_runtime, service

IMAGE = "debian:bookworm-slim"


def _runtime_ok() -> bool:
    if not has_debian_runtime():
        return False
    image = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False)
    return image.returncode == 0


pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.skipif(not _runtime_ok(), reason="needs Docker, debian:bookworm-slim and python3-aiohttp"),
]


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


@pytest.fixture
def run_label() -> Iterator[str]:
    label = f"chaos.test.exporter={uuid.uuid4().hex[:10]}"
    yield label
    ids = _docker("ps", "-aq", "--filter", f"label={label}").split()
    if ids:
        _docker("rm", "-f", *ids)


@pytest.fixture
def exporter(run_label: str) -> Iterator[str]:
    env = {"HOST": "127.0.0.1", "EXPORTER_LABEL_FILTER": run_label, "SCRAPE_INTERVAL_S": "0.5"}
    with service("exporter", free_port(), **env) as running:
        yield running.base


def _metrics(base: str) -> str | httpx.TransportError:
    try:
        return httpx.get(f"{base}/metrics", timeout=2).text
    except httpx.TransportError as exc:
        return exc


def _lines(base: str, name: str) -> list[str]:
    text = _metrics(base)
    return (
        []
        if isinstance(text, Exception)
        else [line for line in text.splitlines() if line.startswith(name + "{")]
    )


def _value(base: str, metric: str, *needles: str) -> float | None:
    for line in _lines(base, metric):
        if all(n in line for n in needles):
            return float(line.rsplit(" ", 1)[1])
    return None


def _eventually(check: Callable[[], bool], timeout: float = 30.0, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"condition not met in time {explain()}"
        time.sleep(0.25)


def _exporter_view(base: str, name: str) -> str:
    """What the exporter says of one container and of its own collections: why a wait ran out."""
    text = _metrics(base)
    if isinstance(text, Exception):
        return f"(/metrics unreadable: {text})"
    lines = text.splitlines()
    states = [line for line in lines if line.startswith("container_state{") and f'name="{name}"' in line]
    own = [line for line in lines if line.startswith("exporter_")]
    return f"(container_state of {name}: {states or 'none'}; exporter: {own})"


def test_oom_paused_and_limits_are_exported(exporter: str, run_label: str) -> None:
    suffix = run_label.rsplit("=", 1)[1]
    key = run_label.split("=", 1)[0]
    hog, paused, limited = f"chaos-exp-oom-{suffix}", f"chaos-exp-paused-{suffix}", f"chaos-exp-lim-{suffix}"
    common = ["run", "-d", "--label", run_label, "--label", "sutazai.tier=monitoring"]
    # A memory hog in 32 MiB: `tail` buffers one endless line until the cgroup OOM-kills it.
    _docker(
        *common,
        "--name",
        hog,
        "--memory",
        "32m",
        "--memory-swap",
        "32m",
        IMAGE,
        "sh",
        "-c",
        "sleep 1; tail /dev/zero",
    )
    _docker(
        *common, "--name", paused, "--health-cmd", "true", "--health-interval", "1s", IMAGE, "sleep", "300"
    )
    _docker(
        *common,
        "--name",
        limited,
        "--memory",
        "64m",
        "--memory-reservation",
        "32m",
        "--cpus",
        "0.5",
        IMAGE,
        "sleep",
        "300",
    )
    _eventually(
        lambda: _value(exporter, "container_health_status", f'name="{paused}"', 'status="healthy"') == 1
    )
    _docker("pause", paused)

    name_hog = f'name="{hog}"'
    _eventually(lambda: _value(exporter, "container_oom_killed", name_hog) == 1)
    assert _value(exporter, "container_state", name_hog, 'state="exited"') == 1
    assert (_value(exporter, "container_oom_events_total", name_hog) or 0) >= 1
    assert _value(exporter, "container_spec_memory_limit_bytes", name_hog) == 32 * 2**20

    _eventually(
        lambda: _value(exporter, "container_state", f'name="{paused}"', 'state="paused"') == 1,
        explain=lambda: _exporter_view(exporter, paused),
    )
    assert (_value(exporter, "container_memory_usage_bytes", f'name="{paused}"') or 0) > 0

    name_lim = f'name="{limited}"'
    assert _value(exporter, "container_spec_cpu_quota", name_lim) == 50_000
    assert _value(exporter, "container_spec_cpu_period", name_lim) == 100_000
    assert _value(exporter, "container_spec_memory_reservation_limit_bytes", name_lim) == 32 * 2**20
    assert (_value(exporter, "container_cpu_usage_seconds_total", name_lim) or -1) >= 0
    assert _value(exporter, "container_state", name_lim, 'state="running"') == 1
    sanitized = "container_label_" + key.replace(".", "_")
    assert (
        _value(
            exporter,
            "container_restart_count",
            name_lim,
            f'{sanitized}="{suffix}"',
            'container_label_sutazai_tier="monitoring"',
        )
        == 0
    )
    # Only the labelled containers: the filter keeps everything else out.
    assert {
        line.split('name="', 1)[1].split('"', 1)[0] for line in _lines(exporter, "container_last_seen")
    } == {
        hog,
        paused,
        limited,
    }
    health = httpx.get(f"{exporter}/health", timeout=2).json()
    assert health["status"] == "ok" and health["containers"] == 3
