"""``python3 -m relayworker``: settings from the environment, then serve until SIGTERM/SIGINT, which
aiohttp handles gracefully (rule 6.1: stop listening, let requests in flight finish, close Redis)."""

from __future__ import annotations

import json
import sys

from aiohttp import web

from .app import Worker, logging_setup
from .settings import load


def main() -> int:
    try:
        settings = load()
    except ValueError as exc:
        print(json.dumps({"level": "ERROR", "service": "relayworker", "message": str(exc)}), flush=True)
        return 2
    logging_setup(settings.service)
    web.run_app(
        Worker(settings).application(), port=settings.port, shutdown_timeout=5, print=None, access_log=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
