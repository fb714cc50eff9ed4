"""`make sla`'s wall time against the waits the rules impose, and the harness process's own CPU share.

Runs `python -m harness run` on the reference stack (images warm), then splits its wall time with the
run record (reports/bench-sla/run.json): stack-up (start to the first scenario), each scenario (its
steady + fault + recovery windows, which slas.yaml sets from the rules: half-open delay, recovery), and
reporting (last scenario's end to exit). Target: run time without stack-up <= 1.5 x the windows' sum.
The CPU share is the harness process's own user+system time (not Locust's: it runs in a process of its
own) over the time the load ran; target <= 10% of one core. With --nightly the nightly-only scenarios run
too; their windows are counted apart (issue 10: the default run is what the ratio judges).

    python bench/sla_bench.py [--nightly] [pytest -k expression]     (default: every scenario)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from _proc import own_cpu_seconds

from harness.catalogue import load_catalogue

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "reports" / "bench-sla"
RATIO_TARGET = 1.5
CPU_TARGET = 0.10


def main(select: list[str]) -> int:
    argv = [sys.executable, "-m", "harness", "run", "--reports", str(REPORTS)]
    if select[:1] == ["--nightly"]:
        argv.append(select.pop(0))
    if select:
        argv += ["--", "-k", " ".join(select)]
    started_wall, started = time.time(), time.monotonic()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, float]] = []  # (wall time, own cpu seconds)
    while process.poll() is None:
        cpu = own_cpu_seconds(process.pid)
        if cpu is not None:
            samples.append((time.time(), cpu))
        time.sleep(1)
    total = time.monotonic() - started
    record = json.loads((REPORTS / "run.json").read_text())
    scenarios = record["scenarios"]
    if not scenarios:
        print(f"no scenario ran (exit {process.returncode})", file=sys.stderr)
        return 2

    first_start = scenarios[0]["marks"]["steady_start"]
    last_end = scenarios[-1]["marks"]["end"]
    stack_up = first_start - started_wall
    nightly = {s.name for s in load_catalogue(REPO / "slas.yaml").scenarios if s.nightly}
    apart = sum(s["marks"]["end"] - s["marks"]["steady_start"] for s in scenarios if s["name"] in nightly)
    windows = sum(s["marks"]["end"] - s["marks"]["steady_start"] for s in scenarios) - apart
    running = total - stack_up - apart
    print(f"make sla ({len(scenarios)} scenarios, exit {process.returncode})")
    print(f"  {'stack-up (not in the ratio)':<34} {stack_up:8.1f} s")
    previous_end = first_start
    for s in scenarios:
        marks = s["marks"]
        overhead = marks["steady_start"] - previous_end
        print(
            f"  {s['name']:<34} {marks['end'] - marks['steady_start']:8.1f} s windows, {overhead:5.1f} s before it"
        )
        previous_end = marks["end"]
    print(f"  {'reporting (last window to exit)':<34} {started_wall + total - last_end:8.1f} s")
    if apart:
        print(f"  {'nightly-only windows (counted apart)':<34} {apart:8.1f} s")
    ratio = running / windows
    verdict = "meets" if ratio <= RATIO_TARGET else "MISSES"
    print(
        f"  run time / imposed waits: {running:.1f} s / {windows:.1f} s = {ratio:.2f} (target <= {RATIO_TARGET}) {verdict}"
    )

    during_load = [(t, c) for t, c in samples if first_start <= t <= last_end]
    if len(during_load) >= 2:
        (t0, c0), (t1, c1) = during_load[0], during_load[-1]
        share = (c1 - c0) / (t1 - t0)
        verdict = "meets" if share <= CPU_TARGET else "MISSES"
        print(f"  harness CPU during load: {share:.1%} of one core (target <= {CPU_TARGET:.0%}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
