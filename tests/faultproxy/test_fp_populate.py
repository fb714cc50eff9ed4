"""Checklist items 39-43: POST /populate."""

from __future__ import annotations

from fp_support import RunningServer, Upstream, connect, free_port, recv_exactly, refused


def test_39_populate_creates_in_order_with_enabled_default(fp: RunningServer) -> None:
    off_port = free_port()
    body = [
        {"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
        {"name": "two", "listen": f"localhost:{off_port}", "upstream": "127.0.0.1:9", "enabled": False},
        {"name": "three", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "enabled": None},
    ]
    reply = fp.request("POST", "/populate", body)
    assert reply.status == 201
    assert reply.header("Content-Type") == "application/json"
    proxies = reply.json()["proxies"]
    assert [proxy["name"] for proxy in proxies] == ["one", "two", "three"]
    assert [proxy["enabled"] for proxy in proxies] == [True, False, True]
    assert proxies[1]["listen"] == f"localhost:{off_port}"
    assert refused(off_port)
    assert set(fp.request("GET", "/proxies").json()) == {"one", "two", "three"}


def test_39_populate_needs_an_array(fp: RunningServer) -> None:
    reply = fp.request("POST", "/populate", {"name": "x", "upstream": "y"})
    assert reply.status == 400
    assert reply.json()["error"].startswith("bad request body: json: cannot unmarshal object")
    assert fp.request("POST", "/populate", b"[]").json() == {"proxies": None}


def test_40_all_entries_validated_before_anything_is_created(fp: RunningServer) -> None:
    body = [
        {"name": "ok", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
        {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
    ]
    reply = fp.request("POST", "/populate", body)
    assert reply.status == 400
    assert reply.json() == {
        "error": "missing required field: name at proxy 2",
        "status": 400,
        "proxies": None,
    }
    body[1] = {"name": "noup", "listen": "127.0.0.1:0"}
    reply = fp.request("POST", "/populate", body)
    assert reply.json()["error"] == "missing required field: upstream at proxy 2"
    assert fp.request("GET", "/proxies").json() == {}


def test_41_existing_equal_proxy_is_untouched_and_different_one_replaced(
    fp: RunningServer, echo: Upstream
) -> None:
    _host, port = fp.create_proxy(echo.port, name="keep")
    fp.add_toxic("keep", name="slow", type="latency", attributes={"latency": 1})
    fp.create_proxy(echo.port, name="change")
    fp.add_toxic("change", name="slow", type="latency")
    fp.create_proxy(echo.port, name="absent")
    client = connect(port)
    client.sendall(b"1")
    assert recv_exactly(client, 1) == b"1"
    body = [
        {"name": "keep", "listen": f"localhost:{port}", "upstream": f"127.0.0.1:{echo.port}"},
        {"name": "change", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
    ]
    reply = fp.request("POST", "/populate", body)
    assert reply.status == 201
    keep, change = reply.json()["proxies"]
    assert keep["listen"] == f"127.0.0.1:{port}"
    assert [toxic["name"] for toxic in keep["toxics"]] == ["slow"]
    assert change["upstream"] == "127.0.0.1:9" and change["toxics"] == []
    client.sendall(b"2")  # the untouched proxy kept its connection
    assert recv_exactly(client, 1) == b"2"
    client.close()
    assert set(fp.request("GET", "/proxies").json()) == {"keep", "change", "absent"}


def test_42_first_failure_stops_and_reports_what_was_done(fp: RunningServer) -> None:
    body = [
        {"name": "first", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
        {"name": "broken", "listen": "local373", "upstream": "127.0.0.1:9"},
        {"name": "never", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
    ]
    reply = fp.request("POST", "/populate", body)
    assert reply.status == 500
    assert reply.header("Content-Type") == "application/json"
    payload = reply.json()
    assert list(payload) == ["error", "status", "proxies"]
    assert payload["error"] == "listen tcp: address local373: missing port in address"
    assert payload["status"] == 500
    assert [proxy["name"] for proxy in payload["proxies"]] == ["first"]
    assert set(fp.request("GET", "/proxies").json()) == {"first"}


def test_43_toxics_can_be_added_to_populated_proxies(fp: RunningServer, echo: Upstream) -> None:
    reply = fp.request(
        "POST", "/populate", [{"name": "pop", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo.port}"}]
    )
    assert reply.status == 201
    fp.add_toxic("pop", type="limit_data", attributes={"bytes": 3})
    assert fp.request("GET", "/proxies/pop/toxics").json()[0]["type"] == "limit_data"
