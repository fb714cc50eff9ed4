"""The generic locustfile sends slas.yaml's requests (load.requests) with their methods, bodies, names and
weights, and refuses a bad LOAD_REQUESTS in one line. Locust runs as a subprocess (importing it would
monkey-patch this test process with gevent); a stub gateway on loopback records what arrives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from load_support import LOAD_DIR, REPO
from loadrequests import read_requests

from harness.catalogue import parse_text

CATALOGUE = """\
version: 1
scenarios: {baseline: {}}
objectives:
  - {id: fast, rule: "8.1", scenarios: all, window: steady, analyzer: {name: response_time, params: {threshold: 1s}}}
load:
  requests:
    - {name: order, method: post, path: /api/orders, body: {item: 1, tags: [a]}, weight: 3}
    - {name: health, path: /health}
"""


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, object]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, body, self.headers.get("X-Trace-ID")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def run_generic(host: str, requests: str, seconds: int = 2) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_", "PUSHGATEWAY_"))}
    return subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOAD_DIR / "generic_locustfile.py"), "--headless"),
            *("-u", "2", "-r", "2", "-t", f"{seconds}s", "--host", host, "--only-summary"),
        ],
        env={**clean, "LOAD_REQUESTS": requests, "LOAD_RATE": "40"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_catalogues_requests_are_sent_with_method_path_body_and_weight(gateway: str) -> None:
    requests = parse_text(CATALOGUE, "slas.yaml").load.requests_json()
    result = run_generic(gateway, requests)
    assert result.returncode == 0, result.stderr
    seen = _Recorder.seen
    assert {(m, p) for m, p, _, _ in seen} == {("POST", "/api/orders"), ("GET", "/health")}
    assert all(body == {"item": 1, "tags": ["a"]} for m, _, body, _ in seen if m == "POST")
    assert all(body is None for m, _, body, _ in seen if m == "GET")
    assert len({trace for *_, trace in seen}) == len(seen)  # a fresh trace id each
    orders = sum(1 for m, *_ in seen if m == "POST")
    assert orders > len(seen) - orders  # weight 3 against 1
    assert "order" in result.stderr and "health" in result.stderr  # Locust's statistics, by name


@pytest.mark.parametrize(
    ("requests", "words"),
    [
        ("", "not set"),
        ("{", "Expecting property name"),
        ("[]", "a non-empty JSON list"),
        ('[{"name": "x"}]', "[0]: expected an object with name and path"),
        ('[{"name": "x", "path": "x"}]', "[0].path: expected a path starting with '/'"),
        ('[{"name": "x", "path": "/", "weight": 0}]', "[0].weight: expected a whole number >= 1"),
    ],
)
def test_a_bad_load_requests_is_one_line_exit_2(requests: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("(", r"\(")):
        read_requests(requests)
    result = run_generic("http://127.0.0.1:9", requests, seconds=1)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("generic_locustfile: LOAD_REQUESTS: ")
    assert "Traceback" not in result.stderr
