"""Test helpers for the fault proxy: the server on its own loop thread, upstream servers, raw HTTP.

Everything binds 127.0.0.1 on ephemeral ports, and every helper has a ``close()`` that the fixtures
in conftest.py always call.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from faultproxy.logs import Logger
from faultproxy.server import FaultProxyServer

TIMEOUT = 10.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class RunningServer:
    """A FaultProxyServer on 127.0.0.1:<ephemeral> running on a private event loop thread."""

    def __init__(self, **options: Any) -> None:
        self.log = io.StringIO()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="faultproxy-loop", daemon=True)
        self.thread.start()
        options.setdefault("logger", Logger(self.log, "info"))
        self.server = FaultProxyServer("127.0.0.1", 0, seed=1, **options)
        self.call(self.server.start())
        self.port = self.server.port

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.call(self.server.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)
            self.loop.close()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | dict | list | None = None,
        headers: dict | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            payload: bytes | None
            if isinstance(body, dict | list):
                payload = json.dumps(body).encode()
            elif isinstance(body, str):
                payload = body.encode()
            else:
                payload = body
            conn.request(method, path, body=payload, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def create_proxy(self, upstream: str | int, name: str = "p", **fields: Any) -> tuple[str, int]:
        """Create a proxy (listen 127.0.0.1:0 unless given) and return the address it listens on."""
        if isinstance(upstream, int):
            upstream = f"127.0.0.1:{upstream}"
        body = {"name": name, "listen": "127.0.0.1:0", "upstream": upstream, **fields}
        reply = self.request("POST", "/proxies", body)
        assert reply.status == 201, reply.body
        return split_listen(reply.json()["listen"])

    def add_toxic(self, proxy: str, **toxic: Any) -> Reply:
        reply = self.request("POST", f"/proxies/{proxy}/toxics", toxic)
        assert reply.status == 200, reply.body
        return reply

    def links(self, proxy: str) -> int:
        """Open connections of a proxy, read on the loop thread."""

        async def count() -> int:
            return len(self.server.collection.get(proxy).links)

        return int(self.call(count()))


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class _Handler(socketserver.BaseRequestHandler):
    server: Upstream

    def handle(self) -> None:
        self.server.connections += 1
        sock: socket.socket = self.request
        sock.settimeout(TIMEOUT * 3)
        with contextlib.suppress(OSError):
            self.server.behaviour(sock)


def echo(sock: socket.socket) -> None:
    while data := sock.recv(65536):
        sock.sendall(data)


class Upstream(socketserver.ThreadingTCPServer):
    """A threaded TCP server on 127.0.0.1 whose connections run ``behaviour(sock)``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: Callable[[socket.socket], None] = echo) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.connections = 0
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(TIMEOUT)


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts = []
    remaining = size
    while remaining:
        data = sock.recv(min(remaining, 1 << 20))
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def recv_until_eof(sock: socket.socket) -> bytes:
    parts = []
    while data := sock.recv(1 << 20):
        parts.append(data)
    return b"".join(parts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False
