"""Runs a stack service as the image does: Debian's python3 (with the Debian packages the services import)
and stack/services on PYTHONPATH."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

SERVICES = Path(__file__).resolve().parents[2] / "stack" / "services"
DEBIAN_PYTHON = "/usr/bin/python3"


def has_debian_runtime() -> bool:
    if not os.path.exists(DEBIAN_PYTHON):
        return False
    probe = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import aiohttp, prometheus_client"], capture_output=True, check=False
    )
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Service:
    proc: subprocess.Popen[bytes]
    base: str
    log: IO[bytes]  # stdout and stderr; a file, so a chatty service never blocks on a full pipe

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_healthy(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.proc.args} did not start: {self.output()}")
            time.sleep(0.05)


def run(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A service run to its end (e.g. refusing its configuration), stdout and stderr together."""
    return subprocess.run(
        [DEBIAN_PYTHON, "-m", module],
        env=_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=30,
        check=False,
    )


@contextmanager
def service(module: str, port: int, **env: str) -> Iterator[Service]:
    """`python3 -m <module>` on PORT=port until the block ends (SIGTERM, killed after 10 s)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [DEBIAN_PYTHON, "-m", module],
            env=_environment({"PORT": str(port), **env}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield Service(proc, f"http://127.0.0.1:{port}", log)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _environment(env: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SERVICES), **env}
