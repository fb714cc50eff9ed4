"""Pressure faults (issue 9): what the stress helper costs outside the target's cgroup, what stress-ng adds
inside it, and how long each fault takes to prove and to revert, on a throwaway sleeper (128 MiB, half a
core). Needs the engine on this host (the helper's shim is read from /proc).

Printed, not asserted: these machines are shared and noisy. The helper's memory outside the target's cgroup
is shown against its target (< 50 MB) as a ratio (<= 1.0 meets it); the other figures have no target.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.catalogue.model import FaultSpec  # noqa: E402
from harness.faults.stress import IMAGE, build_pressure, read_usage  # noqa: E402
from harness.images import build_images  # noqa: E402

MiB = 1024**2
OUTSIDE_TARGET_MB = 50


def _row(name: str, value: float, unit: str, target: float) -> None:
    ratio = value / target
    verdict = "meets" if ratio <= 1 else "MISSES"
    print(
        f"  {name:<44} {value:>9.2f} {unit:<3} target {target:>7.2f} {unit:<3} ratio {ratio:5.2f}  {verdict}"
    )


def _figure(name: str, value: float, unit: str, note: str = "") -> None:
    print(f"  {name:<44} {value:>9.2f} {unit:<3} {note}".rstrip())


def _shim(container_id: str) -> int | None:
    """The pid of the containerd shim that runs the container (outside every container's cgroup)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and b"containerd-shim" in argv[0] and container_id.encode() in argv:
            return int(cmdline.parent.name)
    return None


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB, from smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Rss"], fields["Pss"]


def _outside(helper: docker.models.containers.Container, target_id: str) -> list[int]:
    """The helper's own processes whose memory cgroup is not inside the target's."""
    pids = [int(row[1]) for row in helper.top()["Processes"]]
    outside = []
    for pid in pids:
        memory = next(
            (
                line.split(":", 2)[2]
                for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
                if ":memory:" in line
            ),
            "",
        )
        if not memory.startswith(f"/docker/{target_id}/"):
            outside.append(pid)
    return outside


def main() -> int:
    client = docker.from_env()
    build_images([IMAGE])
    name = f"stress-bench-{uuid.uuid4().hex[:8]}"
    target = client.containers.run(
        "debian:bookworm-slim",
        ["sleep", "infinity"],
        name=name,
        detach=True,
        init=True,
        mem_limit="128m",
        nano_cpus=500_000_000,
        network_mode="none",
    )
    try:
        print("stress helper (memory_pressure 64 MiB, cpu_pressure 2 workers; target 128 MiB, 0.5 core)")
        base = read_usage(client, target.id, "bench").working_set
        memory = build_pressure(
            FaultSpec("memory_pressure", name, (("bytes", 64 * MiB),)), target, client, "bench"
        )
        started = time.monotonic()
        memory.inject()
        _figure("memory pressure proven (64 MiB, no ramp)", time.monotonic() - started, "s")
        rise = read_usage(client, target.id, "bench").working_set - base
        _figure(
            "stress-ng's own, inside the target's cgroup", (rise - 64 * MiB) / MiB, "MiB", "(beyond the 64)"
        )
        helper = client.containers.get(memory.helper)
        shim = _shim(helper.id)
        if shim is None:
            print("  the helper's shim is not visible here (a remote engine?): outside memory not measured")
        else:
            rss, pss = _memory_kb(shim)
            _row("helper outside the target's cgroup (shim RSS)", rss / 1024, "MB", OUTSIDE_TARGET_MB)
            _row("helper outside the target's cgroup (shim PSS)", pss / 1024, "MB", OUTSIDE_TARGET_MB)
            outside = _outside(helper, target.id)
            _figure("helper processes outside the target's cgroup", len(outside), "", "(0 expected)")
        started = time.monotonic()
        memory.revert()
        _figure("memory pressure reverted", time.monotonic() - started, "s")

        cpu = build_pressure(FaultSpec("cpu_pressure", name, (("workers", 2.0),)), target, client, "bench")
        started = time.monotonic()
        cpu.inject()
        _figure(
            "CPU pressure proven (2 workers)", time.monotonic() - started, "s", f"({cpu.outcome.found[-1]})"
        )
        started = time.monotonic()
        cpu.revert()
        _figure("CPU pressure reverted", time.monotonic() - started, "s")
    finally:
        target.remove(force=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
