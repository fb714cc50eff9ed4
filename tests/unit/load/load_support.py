"""Shared by the load tests: paths, the locustfile's helper modules on sys.path (never Locust itself: it
monkey-patches the whole process with gevent), a loopback Pushgateway stub."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LOAD_DIR = REPO / "load"
FAKE_LOCUST = Path(__file__).with_name("fake_locust.py")

if str(LOAD_DIR) not in sys.path:
    sys.path.append(str(LOAD_DIR))


class StubPushgateway:
    """Records every request's method and path; answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.status = 202
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stub.requests.append((self.command, self.path))
                self.send_response(stub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_DELETE = do_POST = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def serving(server: http.server.ThreadingHTTPServer) -> Iterator[None]:
    """``server`` answering on a thread of its own for the ``with`` block, then shut and closed."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
