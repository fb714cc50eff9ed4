"""Checklist items 23-26: the data path, with and without toxics changing under live connections."""

from __future__ import annotations

import os
import random
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from fp_support import (
    RunningServer,
    Upstream,
    connect,
    free_port,
    recv_exactly,
    recv_until_eof,
    wait_until,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_23_simple_and_multi_write_messages(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    client = connect(port)
    client.sendall(b"hello world")
    assert recv_exactly(client, 11) == b"hello world"
    client.sendall(b"two ")
    client.sendall(b"parts")
    assert recv_exactly(client, 9) == b"two parts"
    client.close()


def test_23_big_message_both_directions(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    client = connect(port)
    payload = os.urandom(64 * 1024)
    client.sendall(payload)
    assert recv_exactly(client, len(payload)) == payload
    client.close()


def test_23_upstream_close_flushes_then_closes_client(fp: RunningServer) -> None:
    payload = os.urandom(3 * 1024 * 1024)

    def send_and_close(sock: socket.socket) -> None:
        sock.sendall(payload)

    upstream = Upstream(send_and_close)
    try:
        _host, port = fp.create_proxy(upstream.port)
        client = connect(port)
        assert recv_until_eof(client) == payload
        client.close()
    finally:
        upstream.close()


def test_23_client_half_close_is_a_full_close(fp: RunningServer) -> None:
    late = threading.Event()

    def read_then_write_late(sock: socket.socket) -> None:
        assert sock.recv(100) == b"req"
        assert sock.recv(100) == b""  # the client's FIN was passed on
        time.sleep(0.5)
        try:
            sock.sendall(b"late")
        finally:
            late.set()

    upstream = Upstream(read_then_write_late)
    try:
        _host, port = fp.create_proxy(upstream.port)
        client = connect(port)
        client.sendall(b"req")
        client.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        assert recv_until_eof(client) == b""
        assert time.monotonic() - started < 0.4  # closed by the proxy, not after the upstream's write
        client.close()
        late.wait(5)
    finally:
        upstream.close()


def test_24_unreachable_upstream_closes_client(fp: RunningServer) -> None:
    _host, port = fp.create_proxy(free_port())
    client = connect(port)
    client.settimeout(5)
    assert client.recv(10) == b""
    client.close()
    assert wait_until(lambda: fp.links("p") == 0)


def _median_rtt(port: int, rounds: int) -> float:
    sock = connect(port)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        sock.sendall(b"x" * 32)
        recv_exactly(sock, 32)
        samples.append(time.perf_counter() - started)
    sock.close()
    return statistics.median(samples)


def test_25_added_latency_without_toxics_is_tiny(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    direct = _median_rtt(echo.port, 200)
    proxied = _median_rtt(port, 200)
    # Toxiproxy's own limit is 300 µs per hop; a loaded 2-core box gets 1 ms.
    assert proxied - direct < 0.001, (direct, proxied)


class _Reader(threading.Thread):
    """Collects everything the proxy echoes back until EOF or the expected size."""

    def __init__(self, sock: socket.socket, expected: int) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.expected = expected
        self.data = bytearray()

    def run(self) -> None:
        try:
            while len(self.data) < self.expected:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return
                self.data += chunk
        except OSError:
            return


def test_26_latency_added_and_removed_while_streaming(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    client = connect(port)
    payload = os.urandom(4 * 1024 * 1024)
    reader = _Reader(client, len(payload))
    reader.start()
    view = memoryview(payload)
    step = len(payload) // 16
    for index in range(16):
        client.sendall(view[index * step : (index + 1) * step])
        if index == 3:
            fp.add_toxic("p", name="l1", type="latency", attributes={"latency": 20})
            fp.add_toxic(
                "p", name="l2", type="latency", stream="upstream", attributes={"latency": 5, "jitter": 5}
            )
        if index == 8:
            fp.request("DELETE", "/proxies/p/toxics/l1")
        if index == 12:
            fp.request("POST", "/reset")
    reader.join(20)
    assert bytes(reader.data) == payload
    client.close()


# Delays long enough that a toxic usually holds data when it is updated or removed.
TOXICS = st.sampled_from(
    [
        {"type": "noop"},
        {"type": "latency", "attributes": {"latency": 25, "jitter": 10}},
        {"type": "latency", "attributes": {"latency": 0}},
        {"type": "slicer", "attributes": {"average_size": 2000, "size_variation": 1500, "delay": 500}},
        {"type": "bandwidth", "attributes": {"rate": 4000}},
        {"type": "slow_close", "attributes": {"delay": 5}},
        {"type": "limit_data", "attributes": {"bytes": 100_000_000}},
        {"type": "latency", "attributes": {"latency": 15}, "toxicity": 0.5},
    ]
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(min_value=1, max_value=64 * 1024), st.integers(0, 2**32)),
        st.tuples(st.just("add"), TOXICS, st.sampled_from(["upstream", "downstream"])),
        st.tuples(st.just("update"), st.integers(min_value=0, max_value=4)),
        st.tuples(st.just("remove"), st.integers(min_value=0, max_value=4)),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[RunningServer, Upstream]]:
    running = RunningServer()
    upstream = Upstream()
    try:
        yield running, upstream
    finally:
        upstream.close()
        running.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_26_no_bytes_dropped_duplicated_or_reordered(
    shared: tuple[RunningServer, Upstream], steps: list[tuple]
) -> None:
    fp, upstream = shared
    fp.request("DELETE", "/proxies/h")
    _host, port = fp.create_proxy(upstream.port, name="h")
    names: list[str] = []
    total = sum(step[1] for step in steps if step[0] == "send")
    client = connect(port)
    reader = _Reader(client, total)
    reader.start()
    sent = bytearray()
    counter = 0
    for step in steps:
        if step[0] == "send":
            chunk = random.Random(step[2]).randbytes(step[1])
            client.sendall(chunk)
            sent += chunk
        elif step[0] == "add":
            counter += 1
            name = f"t{counter}"
            fp.add_toxic("h", name=name, stream=step[2], **step[1])
            names.append(name)
        elif names and step[0] == "update":
            body = {"toxicity": 1, "attributes": {"latency": step[1] * 3, "rate": 3000 + step[1]}}
            fp.request("PATCH", f"/proxies/h/toxics/{names[step[1] % len(names)]}", body)
        elif names and step[0] == "remove":
            name = names.pop(step[1] % len(names))
            assert fp.request("DELETE", f"/proxies/h/toxics/{name}").status == 204
    reader.join(20)
    client.close()
    assert len(reader.data) == len(sent)
    assert reader.data == sent
