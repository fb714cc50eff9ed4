"""Checklist items 44-52: what each toxic does to bytes and connections, timed through real sockets.

Timing bounds follow Toxiproxy's tests (jitter + 10 ms) on the side that proves the toxic acted, and
allow a loaded 2-core machine some slack on the other side.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import statistics
import time

import pytest
from fp_support import RunningServer, Upstream, connect, recv_exactly, recv_until_eof, wait_until

from faultproxy.stages import slice_bounds

SLACK = 0.010  # Toxiproxy's own tolerance


def _round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.monotonic()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.monotonic() - started


def test_44_toxicity_zero_never_one_always(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", name="never", type="latency", attributes={"latency": 300}, toxicity=0)
    client = connect(port)
    assert _round_trip(client) < 0.2
    client.close()
    fp.request("PATCH", "/proxies/p/toxics/never", {"toxicity": 1})
    client = connect(port)
    assert _round_trip(client) >= 0.3
    client.close()


def test_44_toxicity_half_acts_on_about_half_the_connections(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="limit_data", attributes={"bytes": 0}, toxicity=0.5)
    cut = 0
    for _ in range(60):
        client = connect(port)
        client.sendall(b"x")
        if client.recv(1) == b"":
            cut += 1
        client.close()
    assert 12 <= cut <= 48, cut


def test_45_downstream_and_upstream_latency(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    for stream in ("downstream", "upstream"):
        fp.add_toxic("p", name=stream, type="latency", stream=stream, attributes={"latency": 100})
        client = connect(port)
        samples = [_round_trip(client) for _ in range(5)]
        client.close()
        assert min(samples) >= 0.100, samples
        assert statistics.median(samples) <= 0.100 + SLACK, samples
        assert max(samples) <= 0.100 + 5 * SLACK, samples
        fp.request("DELETE", f"/proxies/p/toxics/{stream}")


def test_45_jitter_stays_within_bounds(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="latency", attributes={"latency": 60, "jitter": 30})
    client = connect(port)
    samples = [_round_trip(client) for _ in range(15)]
    client.close()
    assert min(samples) >= 0.030, samples
    assert statistics.median(samples) <= 0.090 + SLACK, samples
    assert max(samples) - min(samples) > 0.005, "jitter had no effect"


def test_45_chained_latency_adds_up(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", name="a", type="latency", attributes={"latency": 100})
    fp.add_toxic("p", name="b", type="latency", attributes={"latency": 100})
    client = connect(port)
    elapsed = _round_trip(client)
    client.close()
    assert 0.200 <= elapsed <= 0.200 + 3 * SLACK


def test_45_latency_does_not_cut_throughput(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="latency", stream="upstream", attributes={"latency": 100})
    client = connect(port)
    payload = os.urandom(16 * 1024 * 1024)
    started = time.monotonic()
    client.sendall(payload[:1])
    recv_exactly(client, 1)
    import threading

    receiver = threading.Thread(target=lambda: recv_exactly(client, len(payload) - 1), daemon=True)
    receiver.start()
    client.sendall(payload[1:])
    receiver.join(20)
    elapsed = time.monotonic() - started
    client.close()
    # Delays overlap: 16 MiB behind 100 ms arrive in far less than 16 MiB at one chunk per 100 ms.
    assert elapsed < 2.0, elapsed


def test_45_removing_latency_flushes_buffered_data(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="latency", attributes={"latency": 2000})
    client = connect(port)
    started = time.monotonic()
    client.sendall(b"held")
    time.sleep(0.1)
    fp.request("DELETE", "/proxies/p/toxics/latency_downstream")
    assert recv_exactly(client, 4) == b"held"
    assert time.monotonic() - started < 0.5
    client.close()


def test_45_updating_latency_reschedules_held_data_without_loss(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="latency", attributes={"latency": 3000})
    client = connect(port)
    started = time.monotonic()
    parts = [os.urandom(size) for size in (10, 5000, 70000, 1)]
    for part in parts:
        client.sendall(part)
        time.sleep(0.02)
    fp.request("PATCH", "/proxies/p/toxics/latency_downstream", {"attributes": {"latency": 200}})
    assert recv_exactly(client, sum(map(len, parts))) == b"".join(parts)
    # Held chunks keep their arrival time: they leave 200 ms after it, not 200 ms after the update.
    assert 0.200 <= time.monotonic() - started <= 0.200 + 0.080 + 10 * SLACK
    client.close()


def test_46_bandwidth_limits_rate(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="bandwidth", stream="upstream", attributes={"rate": 1000})
    client = connect(port)
    payload = os.urandom(480 * 1000)
    started = time.monotonic()
    client.sendall(payload)
    assert recv_exactly(client, len(payload)) == payload
    elapsed = time.monotonic() - started
    client.close()
    assert 0.480 - SLACK <= elapsed <= 0.480 + 10 * SLACK, elapsed


def test_46_bandwidth_zero_holds_data_until_removed(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="bandwidth", attributes={"rate": 0})
    client = connect(port)
    client.settimeout(0.3)
    client.sendall(b"stuck")
    with pytest.raises(TimeoutError):
        client.recv(10)
    client.settimeout(5)
    fp.request("DELETE", "/proxies/p/toxics/bandwidth_downstream")
    assert recv_exactly(client, 5) == b"stuck"
    client.close()


def test_47_slow_close_delays_the_close(fp: RunningServer) -> None:
    def greet_and_close(sock: socket.socket) -> None:
        sock.sendall(b"bye")

    upstream = Upstream(greet_and_close)
    try:
        _host, port = fp.create_proxy(upstream.port)
        fp.add_toxic("p", type="slow_close", attributes={"delay": 300})
        client = connect(port)
        started = time.monotonic()
        assert recv_exactly(client, 3) == b"bye"
        assert time.monotonic() - started < 0.2
        assert client.recv(10) == b""
        assert 0.300 <= time.monotonic() - started <= 0.300 + 10 * SLACK
        client.close()
    finally:
        upstream.close()


def test_48_timeout_drops_data_and_closes_after_timeout(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="timeout", stream="upstream", attributes={"timeout": 200})
    client = connect(port)
    started = time.monotonic()
    client.sendall(b"dropped")
    assert recv_until_eof(client) == b""
    assert 0.200 - SLACK <= time.monotonic() - started <= 0.200 + 10 * SLACK
    client.close()


def test_48_timeout_zero_holds_forever_and_removal_closes(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="timeout", attributes={"timeout": 0})
    client = connect(port)
    client.settimeout(0.4)
    client.sendall(b"lost")
    with pytest.raises(TimeoutError):
        client.recv(10)
    client.settimeout(5)
    fp.request("DELETE", "/proxies/p/toxics/timeout_downstream")
    assert client.recv(10) == b""  # removal closes the connection
    client.close()
    assert wait_until(lambda: fp.links("p") == 0)


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_49_reset_peer_is_seen_as_econnreset(fp: RunningServer, echo: Upstream, stream: str) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="reset_peer", stream=stream, attributes={"timeout": 100})
    client = connect(port)
    started = time.monotonic()
    client.sendall(b"hello")
    with pytest.raises(ConnectionResetError):
        while client.recv(100):
            pass
    elapsed = time.monotonic() - started
    assert 0.100 - SLACK <= elapsed <= 0.100 + 10 * SLACK, elapsed
    client.close()


def test_49_reset_peer_zero_timeout_resets_at_once(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="reset_peer", stream="upstream", attributes={"timeout": 0})
    client = connect(port)
    client.sendall(b"x")
    with pytest.raises(ConnectionResetError):
        while client.recv(100):
            pass
    client.close()


def test_50_slicer_cuts_into_delayed_pieces(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="slicer", attributes={"average_size": 1, "size_variation": 0, "delay": 30000})
    client = connect(port)
    started = time.monotonic()
    client.sendall(b"slice")
    reads = []
    while sum(map(len, reads)) < 5:
        reads.append(client.recv(100))
    elapsed = time.monotonic() - started
    client.close()
    assert b"".join(reads) == b"slice"
    assert reads == [b"s", b"l", b"i", b"c", b"e"]
    assert elapsed >= 4 * 0.030


def test_50_slicer_keeps_bytes_and_order(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="slicer", attributes={"average_size": 100, "size_variation": 60, "delay": 10})
    client = connect(port)
    payload = os.urandom(200_000)
    client.sendall(payload)
    assert recv_exactly(client, len(payload)) == payload
    client.close()


def test_50_slice_bounds_like_toxiproxy() -> None:
    rng = random.Random(7)
    bounds = slice_bounds(24, 1, 0, rng)
    assert bounds == list(range(25))  # 24 pieces of one byte
    for _ in range(50):
        size = rng.randrange(1, 5000)
        bounds = slice_bounds(size, 50, 20, rng)
        assert bounds[0] == 0 and bounds[-1] == size
        pieces = [end - start for start, end in itertools.pairwise(bounds)]
        assert all(piece > 0 for piece in pieces)
        assert all(piece <= 50 + 20 for piece in pieces)


def test_51_limit_data_truncates_then_closes(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="limit_data", attributes={"bytes": 100})
    client = connect(port)
    first = os.urandom(60)
    second = os.urandom(60)
    client.sendall(first)
    assert recv_exactly(client, 60) == first
    client.sendall(second)
    assert recv_until_eof(client) == second[:40]
    client.close()


def test_51_limit_data_count_survives_updates(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="limit_data", attributes={"bytes": 100})
    client = connect(port)
    client.sendall(b"a" * 80)
    assert recv_exactly(client, 80) == b"a" * 80
    fp.request("PATCH", "/proxies/p/toxics/limit_data_downstream", {"attributes": {"bytes": 90}})
    client.sendall(b"b" * 30)
    assert recv_until_eof(client) == b"b" * 10
    client.close()


def test_51_limit_data_zero_closes_without_data(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    fp.add_toxic("p", type="limit_data", stream="upstream", attributes={"bytes": 0})
    client = connect(port)
    client.sendall(b"anything")
    assert recv_until_eof(client) == b""
    client.close()
    assert wait_until(lambda: echo.connections == 1)  # the upstream was dialled, then closed


def test_52_noop_passes_everything(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port)
    reply = fp.add_toxic("p", name="nothing", type="noop")
    assert reply.json()["name"] == "nothing"
    client = connect(port)
    payload = os.urandom(300_000)
    client.sendall(payload)
    assert recv_exactly(client, len(payload)) == payload
    client.close()
