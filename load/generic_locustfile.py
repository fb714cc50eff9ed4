"""The generic locustfile: drives the requests slas.yaml lists under ``load.requests``, for a stack whose
catalogue names no locustfile of its own. The harness passes them as JSON in LOAD_REQUESTS::

    [{"name": "order", "method": "POST", "path": "/api/orders", "body": {"item": 1}, "weight": 4}, ...]

Each request is picked with its weight, sent with its JSON body (if any) and a fresh X-Trace-ID, and counted
under its name (Locust's statistics and the series' ``name`` label). Standalone::

    LOAD_REQUESTS='[{"name": "health", "method": "GET", "path": "/health", "body": null, "weight": 1}]' \\
        locust -f generic_locustfile.py --headless -u 2 -t 10s --host http://127.0.0.1:8080

The options, the pacing and what is reported: harnessuser.py. Bad LOAD_REQUESTS: one line, exit 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from harnessuser import HarnessUser
from loadrequests import LoadRequest, read_requests
from locust import events


def _send(request: LoadRequest) -> Callable[[HarnessUser], None]:
    def send(user: HarnessUser) -> None:
        user.client.request(
            request.method, request.path, json=request.body, headers=user.trace_headers(), name=request.name
        )

    send.__name__ = f"send {request.name}"  # Locust's task name in its logs
    return send


try:
    REQUESTS, PROBLEM = read_requests(os.environ.get("LOAD_REQUESTS", "")), ""
except ValueError as exc:
    REQUESTS, PROBLEM = [], str(exc)


@events.init.add_listener
def _refuse_bad_requests(**_: object) -> None:
    # Here rather than at import: exiting while Locust imports the file leaves gevent's noise on stderr.
    if PROBLEM:
        print(f"generic_locustfile: LOAD_REQUESTS: {PROBLEM}", file=sys.stderr)
        sys.exit(2)


class CatalogueUser(HarnessUser):
    """One client sending slas.yaml's requests, each as often as its weight says."""

    tasks = {_send(request): request.weight for request in REQUESTS}
