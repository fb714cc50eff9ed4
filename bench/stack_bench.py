"""Reference-stack benchmarks (issue 2): cold build, warm stack-up to all-healthy, idle CPU and memory.

Printed, not asserted: these machines are shared and noisy. Each figure is shown against its target
as a ratio (figure / target; <= 1.0 meets it).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.images import build_images  # noqa: E402
from harness.stack import Stack  # noqa: E402

COLD_BUILD_TARGET_S = 8 * 60
WARM_UP_TARGET_S = 90
IDLE_CPU_TARGET = 0.10
IDLE_WINDOW_S = 30


def _row(name: str, value: float, unit: str, target: float) -> None:
    ratio = value / target
    verdict = "meets" if ratio <= 1 else "MISSES"
    print(
        f"  {name:<34} {value:>10.2f} {unit:<4} target {target:>8.2f} {unit:<4} ratio {ratio:5.2f}  {verdict}"
    )


def main() -> int:
    stack = Stack.from_files([REPO / "stack" / "compose.yml"])
    project = stack.project
    stack.down()

    print("reference stack")
    started = time.monotonic()
    build_images(project.image_builds(), force=True, no_cache=True)
    _row("cold build (after base image)", time.monotonic() - started, "s", COLD_BUILD_TARGET_S)

    try:
        started = time.monotonic()
        stack.up(health_timeout=240)
        _row("warm stack-up to all-healthy", time.monotonic() - started, "s", WARM_UP_TARGET_S)

        containers = stack.containers()

        def usage() -> tuple[float, int]:
            cpu, memory = 0.0, 0
            for container in containers:
                stats = container.stats(stream=False, one_shot=True)
                cpu += stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
                memory += stats["memory_stats"].get("usage", 0)
            return cpu, memory

        time.sleep(10)  # let start-up work (initdb, plugin loading) finish before "idle"
        cpu_before, _ = usage()
        started = time.monotonic()
        time.sleep(IDLE_WINDOW_S)
        cpu_after, memory = usage()
        share = (cpu_after - cpu_before) / ((time.monotonic() - started) * (os.cpu_count() or 1))
        _row("idle CPU share of the machine", share * 100, "%", IDLE_CPU_TARGET * 100)
        limits = sum(c.attrs["HostConfig"]["Memory"] for c in containers)
        _row("idle memory in use", memory / 2**20, "MiB", limits / 2**20)
        print(f"  {'sum of memory limits':<34} {limits / 2**20:>10.0f} MiB  (budget 6144 MiB)")
    finally:
        stack.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
