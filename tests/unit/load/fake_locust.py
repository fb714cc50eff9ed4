"""Stands in for `python -m locust` in the driver's unit tests: same options and progress file, no load.

Its own first option, --mode, picks a behaviour: ok (reports every 0.1 s, quits on SIGTERM with a last
report), ignore-term (ignores SIGTERM), crash (one line on stderr, exit 3), silent (never reports).
It always ends by itself after --run-time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--run-time", required=True)
    options, _ = parser.parse_known_args()
    if options.mode == "crash":
        print("locustfile: refusing host: boom", file=sys.stderr)
        return 3
    progress = Path(os.environ["LOAD_PROGRESS_FILE"])
    stopping = []
    if options.mode == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    rate = float(os.environ["LOAD_RATE"])
    end = time.monotonic() + float(options.run_time.rstrip("s"))
    start = time.monotonic()
    while time.monotonic() < end and not stopping:
        time.sleep(0.1)
        if options.mode != "silent":
            requests = int(rate * (time.monotonic() - start))
            report(progress, "running", options.users, rate, requests)
    report(progress, "stopped", 0, 0.0, int(rate * (time.monotonic() - start)))
    return 0


def report(path: Path, state: str, users: int, rps: float, requests: int) -> None:
    fields = {"state": state, "users": users, "rps": rps, "requests": requests, "failures": requests // 10}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(fields), encoding="utf-8")
    os.replace(partial, path)


if __name__ == "__main__":
    sys.exit(main())
