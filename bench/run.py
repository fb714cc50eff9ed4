"""`make bench`: every benchmark of the project, one after the other, each printing its own table.

Each bench measures its baseline in the same run (direct connection, Compose's own parser, the target
budget) and prints ratios, so a noisy shared machine moves both sides alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = (
    "faultproxy_bench.py",
    "lint_bench.py",
    "stack_bench.py",
    "sla_bench.py",
    "stress_bench.py",
    "load_bench.py --up",  # the benches before it leave the stack down: it brings the stack up itself
)


def main() -> int:
    failed = []
    for script in SCRIPTS:
        name, *args = script.split()
        print(f"\n=== {script}", flush=True)
        if subprocess.run([sys.executable, str(BENCH / name), *args], check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nbenchmarks that could not run: {', '.join(failed)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
