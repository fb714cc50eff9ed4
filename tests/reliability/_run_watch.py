"""What the reliability tests share: a `harness` run watched line by line, and what a run may leave behind."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import httpx

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "stack" / "compose.yml"
SLAS = Path(__file__).with_name("trials-slas.yaml")
PROJECT = "refstack"
FAULT_PROXY = "http://127.0.0.1:10010"
PUSHGATEWAY = "http://127.0.0.1:10403"
HELPERS = {"label": "harness.helper"}
"""Stress and burst helper containers carry this label, whatever their target."""


class RunOutput:
    """The run's output, read by a thread so the pipe never fills, kept line by line for the triggers."""

    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process, log), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str], log: Path) -> None:
        assert process.stdout is not None
        with log.open("w") as sink:
            for line in process.stdout:
                self.lines.append(line)
                sink.write(line)

    def wait_for(self, pattern: re.Pattern[str], process: subprocess.Popen[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pattern.search(line) for line in list(self.lines)):
                return True
            if process.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def tail(self, count: int = 8) -> str:
        return "".join(self.lines[-count:])


def harness(*args: str, timeout: float = 300) -> int:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=REPO, timeout=timeout, check=False
    ).returncode


def load_generators() -> list[int]:
    """Pids of Locust processes that drive our locustfile."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"locust" in arg for arg in argv) and b"--headless" in argv:
            found.append(int(entry.name))
    return found


def wait_no_load_generator(timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (pids := load_generators()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return pids


def stack_leftovers(client: docker.DockerClient, expect: str) -> list[str]:
    """What is left that should not be: ``expect`` is "down", "up" (every container running) or "any"
    (a bring-up killed half way: a partial stack is no fault, but a paused container or a toxic is)."""
    found = [f"helper container {c.name} left" for c in client.containers.list(all=True, filters=HELPERS)]
    project = {"label": f"com.docker.compose.project={PROJECT}"}
    containers = client.containers.list(all=True, filters=project)
    if expect == "down":
        found += [f"container {c.name} left ({c.status})" for c in containers]
        found += [f"network {n.name} left" for n in client.networks.list(filters=project)]
        return found
    wrong = {"paused"} if expect == "any" else {"paused", "exited", "dead", "created", "restarting"}
    found += [f"container {c.name} is {c.status}" for c in containers if c.status in wrong]
    for network in client.networks.list(filters=project):
        network.reload()
        for container_id in network.attrs.get("Containers") or {}:
            labels = client.containers.get(container_id).labels
            if labels.get("com.docker.compose.project") != PROJECT:
                found.append(f"foreign container {container_id[:12]} on network {network.name}")
    try:
        for proxy in httpx.get(f"{FAULT_PROXY}/proxies", timeout=5).json().values():
            found += [f"toxic {t['name']} on {proxy['name']}" for t in proxy["toxics"]]
            if not proxy["enabled"]:
                found.append(f"proxy {proxy['name']} disabled")
        groups = httpx.get(f"{PUSHGATEWAY}/api/v1/metrics", timeout=5).json()["data"]
        found += [
            f"Pushgateway group {g['labels'].get('job')}/{g['labels'].get('instance')}"
            for g in groups
            if g["labels"].get("job") in ("locust", "harness_events")  # the load's, the engine events'
        ]
    except httpx.HTTPError as exc:
        if expect == "up":  # a bring-up killed half way may not have started the proxy or the Pushgateway
            found.append(f"the stack does not answer: {exc}")
    return found


def start_run(reports: Path, scenario: str, *extra: str) -> tuple[subprocess.Popen[str], RunOutput]:
    """`harness run` of one scenario of the trials catalogue, its output watched line by line."""
    argv = [sys.executable, "-m", "harness", "run", "--stack", str(STACK), "--slas", str(SLAS)]
    argv += ["--reports", str(reports), *extra, "--", "-k", scenario]
    process = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    return process, RunOutput(process, reports / "run.log")


def announced(scenario: str, phase: str) -> re.Pattern[str]:
    """The progress line the run prints every few seconds while ``scenario`` is in ``phase``."""
    return re.compile(rf"\[{re.escape(scenario)}\] {phase}")
