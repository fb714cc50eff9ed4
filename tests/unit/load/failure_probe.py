"""Run as a subprocess by test_load_failure_kinds.py (importing Locust would monkey-patch the test process
with gevent): one POST to each URL given, through Locust's own FastHttpSession set up as FastHttpUser sets
it up (no retries), and one JSON line per request: the exception's type and the kind failures.py gives it.

    PYTHONPATH=load python failure_probe.py TIMEOUT_S URL [URL ...]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from failures import failure_kind
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook


def main(timeout: float, urls: list[str]) -> None:
    seen: dict[str, Any] = {}
    request = EventHook()
    request.add_listener(lambda **meta: seen.update(meta))
    for url in urls:
        session = FastHttpSession(
            url, request, user=None, max_retries=0, connection_timeout=timeout, network_timeout=timeout
        )
        session.post("/api/task", json={"input": "probe"})
        exception, response = seen["exception"], seen["response"]
        kind = None if exception is None else failure_kind(exception, response)
        line = {"url": url, "exception": type(exception).__name__, "kind": kind}
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2:])
