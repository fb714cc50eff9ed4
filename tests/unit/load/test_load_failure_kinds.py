"""Failure kinds (failures.py) on the real exceptions of Locust's FastHttpSession against loopback servers
that refuse, never accept, accept and close, cut the response, reset, stay silent or answer a status; and
their counting in pushmetrics."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from failures import failure_kind
from load_support import LOAD_DIR, REPO
from pushmetrics import ClientMetrics

PROBE = Path(__file__).with_name("failure_probe.py")
TIMEOUT_S = 0.5
Behaviour = Callable[[socket.socket], None]


def close_unanswered(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.close()


def cut_the_response(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nthe first bytes")
    connection.close()


def reset(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def stay_silent(connection: socket.socket) -> None:
    connection.recv(65536)
    threading.Event().wait(TIMEOUT_S * 4)  # past the client's read timeout
    connection.close()


def answer(status: int) -> Behaviour:
    def respond(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        connection.close()

    return respond


class LoopbackServer:
    """Accepts on 127.0.0.1 and treats each connection with ``behaviour``, each in a thread of its own."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.behaviour = behaviour
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed: the test is over
            threading.Thread(target=self.behaviour, args=(connection,), daemon=True).start()


def refusing_url() -> str:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def never_accepting() -> Iterator[str]:
    """A listener whose accept queue is full: the kernel drops further SYNs, so connecting times out."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in (*fillers, listener):
            sock.close()


def probe(*urls: str) -> list[dict[str, str | None]]:
    done = subprocess.run(
        [sys.executable, str(PROBE), str(TIMEOUT_S), *urls],
        env={**os.environ, "PYTHONPATH": str(LOAD_DIR)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_real_clients_failures_are_told_apart(never_accepting: str) -> None:
    cases = {
        "refused": (refusing_url(), "ConnectionRefusedError", "refused"),
        "connect timeout": (never_accepting, "RetriesExceeded", "refused"),
        "closed unanswered": (LoopbackServer(close_unanswered).url, "HTTPConnectionClosed", "lost"),
        "response cut": (LoopbackServer(cut_the_response).url, "HTTPParseError", "lost"),
        "reset": (LoopbackServer(reset).url, "HTTPConnectionClosed", "lost"),
        "read timeout": (LoopbackServer(stay_silent).url, "RetriesExceeded", "lost"),
        "503": (LoopbackServer(answer(503)).url, "LocustBadStatusCode", "refused"),
        "429": (LoopbackServer(answer(429)).url, "LocustBadStatusCode", "refused"),
        "502": (LoopbackServer(answer(502)).url, "LocustBadStatusCode", "lost"),
        "504": (LoopbackServer(answer(504)).url, "LocustBadStatusCode", "lost"),
        "500": (LoopbackServer(answer(500)).url, "LocustBadStatusCode", "lost"),
        "404": (LoopbackServer(answer(404)).url, "LocustBadStatusCode", "rejected"),
        "200": (LoopbackServer(answer(200)).url, "NoneType", None),
    }
    seen = probe(*(url for url, _, _ in cases.values()))
    got = {case: (line["exception"], line["kind"]) for case, line in zip(cases, seen, strict=True)}
    assert got == {case: (exception, kind) for case, (_, exception, kind) in cases.items()}


def test_a_failure_of_unknown_shape_counts_as_lost() -> None:
    assert failure_kind(RuntimeError("a catch_response failure")) == "lost"
    assert failure_kind(socket.gaierror(-2, "Name or service not known")) == "refused"


class Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def test_each_failure_is_counted_by_kind_and_every_kind_exists_from_the_first_request() -> None:
    metrics = ClientMetrics()
    labels = {"name": "summarizer task", "method": "POST"}
    metrics.on_request("POST", "summarizer task", 3.0, response=Response(200))
    assert all(
        metrics.registry.get_sample_value("locust_request_failures_total", {**labels, "kind": kind}) == 0
        for kind in ("refused", "lost", "rejected")
    )
    metrics.on_request("POST", "summarizer task", 1.0, exception=ConnectionRefusedError(111, "refused"))
    metrics.on_request("POST", "summarizer task", 2.0, response=Response(503), exception=RuntimeError("503"))
    metrics.on_request("POST", "summarizer task", 5.0, exception=ConnectionResetError(104, "reset"))
    metrics.on_request("POST", "summarizer task", 2.0, response=Response(404), exception=RuntimeError("404"))
    counts = {
        kind: metrics.registry.get_sample_value("locust_request_failures_total", {**labels, "kind": kind})
        for kind in ("refused", "lost", "rejected")
    }
    assert counts == {"refused": 2, "lost": 1, "rejected": 1}
    failures = metrics.registry.get_sample_value("locust_requests_total", {**labels, "outcome": "failure"})
    assert failures == sum(counts.values())
