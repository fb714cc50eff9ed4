"""Peers that reset, half-close or stall never crash the server or leak connections, sockets or tasks;
plus the -proxy-metrics page and the JSON log lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import threading
import time

import pytest
from fp_support import RunningServer, Upstream, connect, recv_exactly, wait_until


def _tasks(fp: RunningServer) -> int:
    async def count() -> int:
        return len(asyncio.all_tasks())

    return int(fp.call(count()))


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_client_reset_mid_stream_leaves_nothing_behind(fp: RunningServer) -> None:
    def flood(sock: socket.socket) -> None:
        block = b"z" * 65536
        for _ in range(2000):
            sock.sendall(block)

    upstream = Upstream(flood)
    try:
        _host, port = fp.create_proxy(upstream.port)
        fp.add_toxic("p", type="latency", attributes={"latency": 1})
        baseline_tasks = _tasks(fp)
        for _ in range(5):
            client = connect(port)
            assert client.recv(1000)
            _reset(client)
        assert wait_until(lambda: fp.links("p") == 0)
        assert _tasks(fp) <= baseline_tasks
        assert fp.request("GET", "/version").status == 200
    finally:
        upstream.close()


def test_upstream_reset_closes_the_client(fp: RunningServer) -> None:
    def reset_after_hello(sock: socket.socket) -> None:
        sock.recv(10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    upstream = Upstream(reset_after_hello)
    try:
        _host, port = fp.create_proxy(upstream.port)
        client = connect(port)
        client.sendall(b"hello")
        assert client.recv(10) == b""
        client.close()
        assert wait_until(lambda: fp.links("p") == 0)
    finally:
        upstream.close()


def test_stalled_client_is_flow_controlled_not_buffered(fp: RunningServer) -> None:
    sent = [0]
    done = threading.Event()

    def push_forever(sock: socket.socket) -> None:
        block = b"s" * 65536
        sock.settimeout(2)
        try:
            for _ in range(4000):  # bounded: 256 MiB at most
                sock.sendall(block)
                sent[0] += len(block)
        except OSError:
            pass
        finally:
            done.set()

    upstream = Upstream(push_forever)
    try:
        _host, port = fp.create_proxy(upstream.port)
        client = connect(port)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        time.sleep(1.0)  # the client reads nothing

        async def buffered() -> int:
            link = next(iter(fp.server.collection.get("p").links))
            assert link.client.transport is not None
            return int(link.client.transport.get_write_buffer_size())

        assert fp.call(buffered()) <= 1 << 20
        assert sent[0] < 64 << 20  # the upstream was paused, not drained into memory
        _reset(client)
        assert wait_until(lambda: fp.links("p") == 0)
        assert done.wait(5)
    finally:
        upstream.close()


def test_half_closed_client_with_silent_upstream_is_closed_by_disable(fp: RunningServer) -> None:
    def silent(sock: socket.socket) -> None:
        sock.recv(10)
        time.sleep(1)

    upstream = Upstream(silent)
    try:
        _host, port = fp.create_proxy(upstream.port)
        client = connect(port)
        client.sendall(b"x")
        assert wait_until(lambda: fp.links("p") == 1)
        fp.request("PATCH", "/proxies/p", {"enabled": False})
        assert client.recv(10) == b""
        client.close()
        assert wait_until(lambda: fp.links("p") == 0)
    finally:
        upstream.close()


def test_churn_with_toxic_changes_leaks_nothing(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    baseline_fds = _open_fds()
    baseline_tasks = _tasks(fp)
    kinds = [
        {"type": "latency", "attributes": {"latency": 2}},
        {"type": "slicer", "attributes": {"average_size": 10, "delay": 10}},
        {"type": "reset_peer", "attributes": {"timeout": 5}},
        {"type": "timeout", "attributes": {"timeout": 5}},
        {"type": "limit_data", "attributes": {"bytes": 3}},
        {"type": "slow_close", "attributes": {"delay": 5}},
    ]
    clients = []
    for index in range(60):
        kind = kinds[index % len(kinds)]
        if index % 2 == 0:
            fp.add_toxic("p", name=f"t{index}", stream="upstream" if index % 4 else "downstream", **kind)
        client = connect(port)
        client.settimeout(2)
        try:
            client.sendall(b"hello")
            client.recv(10)
        except OSError:
            pass
        clients.append(client)
        if index % 3 == 0:
            fp.request("POST", "/reset")
        if index % 5 == 0:
            _reset(clients.pop(0))
    for client in clients:
        client.close()
    fp.request("POST", "/reset")
    assert wait_until(lambda: fp.links("p") == 0, timeout=10)
    assert wait_until(lambda: _tasks(fp) <= baseline_tasks)
    assert wait_until(lambda: _open_fds() <= baseline_fds + 2)
    client = connect(port)
    client.sendall(b"still fine")
    assert recv_exactly(client, 10) == b"still fine"
    client.close()


def test_api_client_disconnecting_mid_body_does_not_hurt(fp: RunningServer) -> None:
    for _ in range(3):
        sock = connect(fp.port)
        sock.sendall(b'POST /proxies HTTP/1.1\r\nContent-Length: 500\r\n\r\n{"name":')
        _reset(sock)
    assert fp.request("GET", "/proxies").json() == {}


def test_proxy_metrics_count_connections_bytes_and_toxics(fp_metrics: RunningServer, echo: Upstream) -> None:
    fp = fp_metrics
    _host, port = fp.create_proxy(echo.port, name="m")
    fp.add_toxic("m", type="latency", stream="upstream", attributes={"latency": 1})
    client = connect(port)
    client.sendall(b"x" * 1000)
    assert recv_exactly(client, 1000) == b"x" * 1000
    reply = fp.request("GET", "/metrics")
    assert reply.status == 200
    assert reply.header(
        "Content-Type",
    ).startswith("text/plain; version=0.0.4")
    text = reply.body.decode()
    labels = f'proxy="m",listener="127.0.0.1:{port}",upstream="127.0.0.1:{echo.port}"'
    assert f'toxiproxy_proxy_received_bytes_total{{direction="upstream",{labels}}} 1000' in text
    assert f'toxiproxy_proxy_sent_bytes_total{{direction="downstream",{labels}}} 1000' in text
    assert 'faultproxy_proxy_connections_active{proxy="m"} 1' in text
    assert 'faultproxy_proxy_connections_total{proxy="m"} 1' in text
    assert f'faultproxy_proxy_toxics_active{{direction="upstream",{labels}}} 1' in text
    client.close()


def test_log_lines_are_json_events(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port, name="logged")
    fp.add_toxic("logged", type="noop")
    client = connect(port)
    client.sendall(b"x")
    recv_exactly(client, 1)
    client.close()
    assert wait_until(lambda: "Accepted client" in fp.log.getvalue())
    events = [json.loads(line) for line in fp.log.getvalue().splitlines()]
    messages = {event["message"] for event in events}
    assert {"Started proxy", "Created proxy", "Added toxic", "Accepted client"} <= messages
    accepted = next(event for event in events if event["message"] == "Accepted client")
    assert accepted["name"] == "logged" and accepted["upstream"] == f"127.0.0.1:{echo.port}"
    assert all({"time", "level", "message"} <= set(event) for event in events)


def test_bandwidth_toxic_pushes_back_instead_of_buffering(fp: RunningServer) -> None:
    def sink(sock: socket.socket) -> None:
        while sock.recv(65536):
            pass

    upstream = Upstream(sink)
    try:
        _host, port = fp.create_proxy(upstream.port)
        fp.add_toxic("p", type="bandwidth", stream="upstream", attributes={"rate": 100})
        client = connect(port)
        client.settimeout(0.2)
        sent = 0
        block = b"b" * 65536
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sent < 64 << 20:
            with contextlib.suppress(TimeoutError):
                sent += client.send(block)

        async def held() -> int:
            link = next(iter(fp.server.collection.get("p").links))
            assert link.up is not None
            return sum(stage.buffered() for stage in link.up.stages)

        assert fp.call(held()) <= 2 * 256 * 1024  # the proxy holds little: the sender was paused
        assert sent < 16 << 20
        _reset(client)
        # What the toxic holds still goes upstream at its rate, as in Toxiproxy; removing it flushes.
        fp.request("DELETE", "/proxies/p/toxics/bandwidth_upstream")
        assert wait_until(lambda: fp.links("p") == 0)
    finally:
        upstream.close()


def test_runtime_metrics_show_process_series_only() -> None:
    running = RunningServer(runtime_metrics=True)
    try:
        text = running.request("GET", "/metrics").body.decode()
        assert "process_resident_memory_bytes " in text and "process_open_fds " in text
        assert "toxiproxy_proxy_received_bytes_total" not in text
    finally:
        running.close()


def test_closed_socket_whose_peer_never_reads_is_aborted(
    fp: RunningServer, echo: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faultproxy import link

    monkeypatch.setattr(link, "CLOSE_GRACE", 0.5)
    _host, port = fp.create_proxy(echo.port)
    client = connect(port)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.sendall(b"x")
    assert recv_exactly(client, 1) == b"x"

    async def close_with_unflushable_buffer() -> int:
        side = next(iter(fp.server.collection.get("p").links)).client
        assert side.transport is not None
        side.transport.write(b"y" * (32 << 20))  # far more than the kernel buffers take
        side.close()
        return int(side.transport.get_write_buffer_size())

    started = time.monotonic()
    assert fp.call(close_with_unflushable_buffer()) > 0
    # The client never reads: close() cannot flush, so the grace timer aborts the socket.
    assert wait_until(lambda: fp.links("p") == 0, timeout=8)
    assert time.monotonic() - started >= 0.45
    client.close()


def test_metrics_answers_any_method_and_head_has_no_body(fp_metrics: RunningServer) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        assert fp_metrics.request(method, "/metrics").status == 200, method
    sock = connect(fp_metrics.port)
    sock.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b'{"version"' not in data:
        chunk = sock.recv(65536)
        assert chunk
        data += chunk
    sock.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length:" in head
    assert rest.startswith(b"HTTP/1.1 200")  # the HEAD answer had no body
