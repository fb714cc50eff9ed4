"""Checklist items 7-22: proxy CRUD, enable/disable, update, delete."""

from __future__ import annotations

import socket

from fp_support import (
    RunningServer,
    Upstream,
    connect,
    free_port,
    recv_exactly,
    refused,
    split_listen,
    wait_until,
)


def test_07_index_with_no_proxies(fp: RunningServer) -> None:
    reply = fp.request("GET", "/proxies")
    assert reply.status == 200
    assert reply.body == b"{}"
    assert reply.header("Content-Type") == "application/json"


def test_07_index_is_keyed_by_name_with_go_field_order(fp: RunningServer) -> None:
    fp.request("POST", "/proxies", {"name": "b", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:0"})
    fp.request(
        "POST", "/proxies", {"name": "a", "upstream": "127.0.0.1:9", "enabled": False, "listen": "x:1"}
    )
    reply = fp.request("GET", "/proxies")
    assert list(reply.json()) == ["a", "b"]
    assert reply.body.startswith(
        b'{"a":{"name":"a","listen":"x:1","upstream":"127.0.0.1:9","enabled":false,"Logger":{},"toxics":[]},'
    )


def test_08_create_with_blank_name(fp: RunningServer) -> None:
    for body in ({"upstream": "127.0.0.1:9"}, {"name": "", "upstream": ""}, {}):
        reply = fp.request("POST", "/proxies", body)
        assert reply.status == 400
        assert reply.body == b'{"error":"missing required field: name","status":400}\n'


def test_09_create_with_blank_upstream(fp: RunningServer) -> None:
    reply = fp.request("POST", "/proxies", {"name": "x"})
    assert reply.status == 400
    assert reply.body == b'{"error":"missing required field: upstream","status":400}\n'


def test_10_enabled_defaults_true_and_upstream_is_not_dialled(fp: RunningServer) -> None:
    dead = free_port()
    reply = fp.request(
        "POST", "/proxies", {"name": "x", "upstream": f"127.0.0.1:{dead}", "listen": "127.0.0.1:0"}
    )
    assert reply.status == 201
    assert reply.json()["enabled"] is True
    reply = fp.request(
        "POST", "/proxies", {"name": "y", "upstream": "no.such.host.invalid:1", "listen": "127.0.0.1:0"}
    )
    assert reply.status == 201


def test_11_listen_is_rewritten_to_the_bound_address(fp: RunningServer) -> None:
    reply = fp.request("POST", "/proxies", {"name": "lh", "upstream": "127.0.0.1:9", "listen": "localhost:0"})
    assert reply.status == 201
    host, port = split_listen(reply.json()["listen"])
    assert host == "127.0.0.1" and port > 0
    assert fp.request("GET", "/proxies/lh").json()["listen"] == f"127.0.0.1:{port}"
    reply = fp.request("POST", "/proxies", {"name": "any", "upstream": "127.0.0.1:9"})
    assert reply.status == 201
    listen = reply.json()["listen"]
    host, port = split_listen(listen)
    assert host in ("::", "0.0.0.0") and port > 0, listen
    connect(port).close()


def test_12_disabled_proxy_does_not_listen_and_keeps_listen_verbatim(fp: RunningServer) -> None:
    port = free_port()
    body = {"name": "off", "upstream": "127.0.0.1:9", "listen": f"localhost:{port}", "enabled": False}
    reply = fp.request("POST", "/proxies", body)
    assert reply.status == 201
    assert reply.json()["listen"] == f"localhost:{port}"
    assert reply.json()["enabled"] is False
    assert refused(port)


def test_13_duplicate_name_is_409_before_binding(fp: RunningServer) -> None:
    fp.create_proxy(9, name="dup")
    reply = fp.request(
        "POST", "/proxies", {"name": "dup", "upstream": "127.0.0.1:9", "listen": "bad-address"}
    )
    assert reply.status == 409
    assert reply.body == b'{"error":"proxy already exists","status":409}\n'
    assert fp.request("DELETE", "/proxies/dup").status == 204
    fp.create_proxy(9, name="dup")


def test_14_listen_address_in_use_is_500_and_nothing_stored(fp: RunningServer) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    body = {"name": "busy", "upstream": "127.0.0.1:9", "listen": f"127.0.0.1:{port}"}
    reply = fp.request("POST", "/proxies", body)
    assert reply.status == 500
    assert reply.json() == {
        "error": f"listen tcp 127.0.0.1:{port}: bind: address already in use",
        "status": 500,
    }
    assert fp.request("GET", "/proxies").json() == {}
    blocker.close()
    assert fp.request("POST", "/proxies", body).status == 201


def test_15_get_proxy_with_toxics_and_unknown_is_404(fp: RunningServer) -> None:
    fp.create_proxy(9, name="g")
    fp.add_toxic("g", type="latency", attributes={"latency": 5})
    reply = fp.request("GET", "/proxies/g")
    assert reply.status == 200
    assert [toxic["name"] for toxic in reply.json()["toxics"]] == ["latency_downstream"]
    reply = fp.request("GET", "/proxies/missing")
    assert reply.status == 404
    assert reply.body == b'{"error":"proxy not found","status":404}\n'


def test_16_update_keeps_omitted_fields(fp: RunningServer) -> None:
    _host, port = fp.create_proxy(9, name="u")
    for method in ("POST", "PATCH"):
        reply = fp.request(method, "/proxies/u", {"enabled": False})
        assert reply.status == 200
        proxy = reply.json()
        assert proxy["enabled"] is False
        assert proxy["upstream"] == "127.0.0.1:9"
        assert proxy["listen"] == f"127.0.0.1:{port}"
        assert fp.request(method, "/proxies/u", {"enabled": True}).json()["enabled"] is True
    assert fp.request("PATCH", "/proxies/nope", {"enabled": True}).status == 404


def test_17_disable_refuses_and_drops_then_enable_reuses_port(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port, name="d")
    client = connect(port)
    client.sendall(b"ping")
    assert recv_exactly(client, 4) == b"ping"
    assert fp.request("PATCH", "/proxies/d", {"enabled": False}).status == 200
    assert client.recv(10) == b""  # the live connection was closed
    client.close()
    assert refused(port)
    reply = fp.request("PATCH", "/proxies/d", {"enabled": True})
    assert reply.json()["listen"] == f"127.0.0.1:{port}"
    client = connect(port)
    client.sendall(b"again")
    assert recv_exactly(client, 5) == b"again"
    client.close()


def test_18_changing_upstream_restarts_but_same_resolved_listen_does_not(
    fp: RunningServer, echo: Upstream
) -> None:
    _host, port = fp.create_proxy(echo.port, name="r")
    client = connect(port)
    client.sendall(b"a")
    assert recv_exactly(client, 1) == b"a"
    # localhost:PORT resolves to the current 127.0.0.1:PORT: not a change, the connection survives.
    reply = fp.request("PATCH", "/proxies/r", {"listen": f"localhost:{port}"})
    assert reply.status == 200
    assert reply.json()["listen"] == f"127.0.0.1:{port}"
    client.sendall(b"b")
    assert recv_exactly(client, 1) == b"b"
    other = Upstream()
    try:
        reply = fp.request("PATCH", "/proxies/r", {"upstream": f"127.0.0.1:{other.port}"})
        assert reply.json()["upstream"] == f"127.0.0.1:{other.port}"
        assert client.recv(10) == b""  # restarted: connections dropped
        client.close()
        client = connect(port)
        client.sendall(b"c")
        assert recv_exactly(client, 1) == b"c"
        assert wait_until(lambda: other.connections == 1)
        client.close()
    finally:
        other.close()


def test_19_update_with_unusable_listen_is_500(fp: RunningServer) -> None:
    fp.create_proxy(9, name="bad")
    reply = fp.request("PATCH", "/proxies/bad", {"listen": "local373"})
    assert reply.status == 500
    assert reply.json()["error"] == "address local373: missing port in address"
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:
        reply = fp.request("PATCH", "/proxies/bad", {"listen": f"127.0.0.1:{taken}"})
        assert reply.status == 500
        assert reply.json()["error"] == f"listen tcp 127.0.0.1:{taken}: bind: address already in use"
    finally:
        blocker.close()


def test_20_stop_twice_is_harmless_and_reset_ignores_running(fp: RunningServer) -> None:
    fp.create_proxy(9, name="s")
    for _ in range(2):
        assert fp.request("PATCH", "/proxies/s", {"enabled": False}).status == 200
    assert fp.request("PATCH", "/proxies/s", {"enabled": True}).status == 200
    assert fp.request("PATCH", "/proxies/s", {"enabled": True}).status == 200
    assert fp.request("POST", "/reset").status == 204
    assert fp.request("GET", "/proxies/s").json()["enabled"] is True


def test_21_delete_stops_listening_and_second_delete_is_404(fp: RunningServer) -> None:
    _host, port = fp.create_proxy(9, name="del")
    reply = fp.request("DELETE", "/proxies/del")
    assert reply.status == 204
    assert reply.body == b""
    assert refused(port)
    assert fp.request("GET", "/proxies").json() == {}
    reply = fp.request("DELETE", "/proxies/del")
    assert reply.status == 404
    assert reply.json()["error"] == "proxy not found"


def test_22_toxics_survive_disable_enable(fp: RunningServer) -> None:
    fp.create_proxy(9, name="t")
    fp.add_toxic("t", type="latency", attributes={"latency": 7, "jitter": 1}, toxicity=0.5)
    fp.request("PATCH", "/proxies/t", {"enabled": False})
    fp.request("PATCH", "/proxies/t", {"enabled": True})
    toxics = fp.request("GET", "/proxies/t/toxics").json()
    assert toxics == [
        {
            "attributes": {"latency": 7, "jitter": 1},
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 0.5,
        }
    ]
