"""Benchmark of the static lint (issue 4): a 54-service compose file, whole process, against Compose's own
``config -q`` on the same file in the same run. Target: the lint, every rule, no slower than Compose.

Runs are interleaved (lint, compose, lint, compose...) so a busy machine slows both sides alike; the medians
and their ratio are printed. Exit 0 when both sides ran (whether or not the target is met), 2 when one could
not run.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RUNS = 9
TIERS = (  # (tier, count, first port, cpuset, pool)
    ("infrastructure", 8, 10000, "0-3", "infrastructure"),
    ("critical", 12, 10100, "4-7", "agent-critical"),
    ("standard", 28, 10200, "8-11", "agent-standard"),
    ("monitoring", 5, 10400, None, "monitoring"),
    ("gateway", 1, 8080, None, "infrastructure"),
)


def compose_document() -> dict[str, object]:
    """54 services shaped like the SutazAI files: limits, healthchecks, restart policies, labels, networks."""
    services: dict[str, object] = {}
    names: list[str] = []
    for tier, count, first_port, cpuset, pool in TIERS:
        for i in range(count):
            name = "gateway" if tier == "gateway" else f"{tier}-{i:02d}"
            port = first_port + i
            service: dict[str, object] = {
                "image": f"example/{tier}:1.{i}",
                "user": "1000:1000",
                "environment": {
                    "PORT": str(port),
                    "LOG_LEVEL": "INFO",
                    "DB_PASSWORD": "${DB_PASSWORD:-}",
                    "REDIS_URL": "redis://infrastructure-00:10000/0",
                },
                "expose": [str(port)],
                "healthcheck": {
                    "test": ["CMD-SHELL", f"curl -fsS http://localhost:{port}/health || exit 1"],
                    "interval": "30s",
                    "timeout": "10s",
                    "retries": 3,
                    "start_period": "60s",
                },
                "restart": "unless-stopped",
                "deploy": {
                    "resources": {
                        "limits": {"memory": "128M", "cpus": "0.5"},
                        "reservations": {"memory": "80M", "cpus": "0.3"},
                    },
                    "restart_policy": {
                        "condition": "on-failure",
                        "delay": "30s",
                        "max_attempts": 3,
                        "window": "300s",
                    },
                },
                "networks": ["backend"],
                "labels": {"sutazai.tier": tier, "sutazai.phase": "1", "sutazai.memory-pool": pool},
            }
            if cpuset:
                service["cpuset"] = cpuset
            if tier == "gateway":
                service["ports"] = ["127.0.0.1:8080:8080"]
                service["networks"] = ["backend", "edge"]
                service["depends_on"] = {
                    n: {"condition": "service_healthy"} for n in names if "critical" in n
                }
            elif names:
                service["depends_on"] = {names[0]: {"condition": "service_healthy"}}
            services[name] = service
            names.append(name)
    return {
        "version": "3.8",
        "services": services,
        "networks": {"backend": {"internal": True}, "edge": {}},
    }


def lint_command(python: str, path: Path) -> list[str]:
    """``python -m harness lint`` once the lead's CLI registers it, else the lint's own entry point."""
    probe = subprocess.run(
        [python, "-m", "harness", "lint", "--help"], capture_output=True, cwd=REPO, timeout=60, check=False
    )
    module = ["harness", "lint"] if probe.returncode == 0 else ["harness.lint"]
    return [python, "-m", *module, str(path), "--format", "json"]


def compose_command(path: Path) -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0
    ):
        return [docker, "compose", "-f", str(path), "config", "-q"]
    v1 = shutil.which("docker-compose")
    return [v1, "-f", str(path), "config", "-q"] if v1 else None


def timed(command: list[str], ok: tuple[int, ...]) -> float:
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, cwd=REPO, timeout=120, check=False)
    elapsed = time.monotonic() - start
    if done.returncode not in ok:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return elapsed


def main() -> int:
    venv_python = REPO / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    with tempfile.TemporaryDirectory(prefix="lint-bench-") as tmp:
        path = Path(tmp) / "compose.yml"
        path.write_text(yaml.safe_dump(compose_document(), sort_keys=False))
        lines = path.read_text().count("\n")
        lint = lint_command(python, path)
        compose = compose_command(path)
        if compose is None:
            print(
                "lint bench: no Compose CLI (docker compose or docker-compose) to compare with",
                file=sys.stderr,
            )
            return 2
        lint_times: list[float] = []
        compose_times: list[float] = []
        try:
            for _ in range(RUNS):
                lint_times.append(timed(lint, ok=(0, 1)))
                compose_times.append(timed(compose, ok=(0,)))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"lint bench: {exc}", file=sys.stderr)
            return 2
    lint_median, compose_median = statistics.median(lint_times), statistics.median(compose_times)
    ratio = lint_median / compose_median
    print(f"54-service compose file ({lines} lines), {RUNS} interleaved runs each, whole process")
    print(f"{'command':<44} {'median':>8} {'min':>8} {'max':>8}")
    for label, times in (
        (f"python -m {' '.join(lint[2 : lint.index(str(path))])} FILE --format json", lint_times),
        (
            ("docker compose" if compose[1] == "compose" else "docker-compose") + " -f FILE config -q",
            compose_times,
        ),
    ):
        print(f"{label:<44} {_ms(statistics.median(times))} {_ms(min(times))} {_ms(max(times))}")
    verdict = "met" if ratio <= 1 else "MISSED"
    print(f"lint / compose = {ratio:.2f} (target <= 1.00: {verdict})")
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:>6.0f}ms"


if __name__ == "__main__":
    raise SystemExit(main())
