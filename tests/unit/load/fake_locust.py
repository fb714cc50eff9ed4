"""Stands in for `python -m locust` in the driver's unit tests: same options and progress file, no load.

Its own first option, --mode, picks a behaviour: ok (reports every 0.1 s, quits on SIGTERM with a last
report), ignore-term (ignores SIGTERM), crash (one line on stderr, exit 3), silent (never reports),
worker-dies (as ok, but its workers exit with code 5 after WORKER_LIFE_S), worker-crash (as ok, but its
workers exit at once with code 2 and one line on stderr). It always ends by itself after
--run-time. With --worker it is a worker: it reports nothing and waits for SIGTERM (WORKER_BOUND_S at most).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

WORKER_LIFE_S = 0.5
WORKER_BOUND_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--users", type=int)
    parser.add_argument("--run-time")
    parser.add_argument("--worker", action="store_true")
    options, _ = parser.parse_known_args()
    if options.worker:
        return worker(options.mode)
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


def worker(mode: str) -> int:
    if mode == "worker-crash":
        print("locustfile: refusing host: boom", file=sys.stderr)
        return 2
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    end = time.monotonic() + (WORKER_LIFE_S if mode == "worker-dies" else WORKER_BOUND_S)
    while time.monotonic() < end and not stopping:
        time.sleep(0.05)
    return 5 if mode == "worker-dies" and not stopping else 0


def report(path: Path, state: str, users: int, rps: float, requests: int) -> None:
    fields = {"state": state, "users": users, "rps": rps, "requests": requests, "failures": requests // 10}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(fields), encoding="utf-8")
    os.replace(partial, path)


if __name__ == "__main__":
    sys.exit(main())
