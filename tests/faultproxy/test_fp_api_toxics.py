"""Checklist items 27-38: toxic CRUD and /reset."""

from __future__ import annotations

import pytest
from fp_support import RunningServer, Upstream, connect, recv_exactly, refused


@pytest.fixture
def proxy(fp: RunningServer) -> str:
    fp.create_proxy(9, name="px")
    return "px"


def test_27_fresh_proxy_lists_no_toxics(fp: RunningServer, proxy: str) -> None:
    reply = fp.request("GET", f"/proxies/{proxy}/toxics")
    assert reply.status == 200
    assert reply.body == b"[]"


def test_27_listing_is_upstream_first_then_insertion_order(fp: RunningServer, proxy: str) -> None:
    fp.add_toxic(proxy, name="d1", type="noop")
    fp.add_toxic(proxy, name="u1", type="noop", stream="upstream")
    fp.add_toxic(proxy, name="d2", type="noop")
    fp.add_toxic(proxy, name="u2", type="noop", stream="upstream")
    names = [toxic["name"] for toxic in fp.request("GET", f"/proxies/{proxy}/toxics").json()]
    assert names == ["u1", "u2", "d1", "d2"]


def test_28_create_is_200_with_defaults(fp: RunningServer, proxy: str) -> None:
    reply = fp.request("POST", f"/proxies/{proxy}/toxics", {"type": "latency"})
    assert reply.status == 200
    assert reply.body == (
        b'{"attributes":{"latency":0,"jitter":0},"name":"latency_downstream","type":"latency",'
        b'"stream":"downstream","toxicity":1}'
    )
    expected = {
        "bandwidth": {"rate": 0},
        "slow_close": {"delay": 0},
        "timeout": {"timeout": 0},
        "reset_peer": {"timeout": 0},
        "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
        "limit_data": {"bytes": 0},
        "noop": {},
    }
    for kind, attributes in expected.items():
        reply = fp.request("POST", f"/proxies/{proxy}/toxics", {"type": kind, "stream": "upstream"})
        assert reply.status == 200, kind
        assert reply.json()["attributes"] == attributes
        assert reply.json()["name"] == f"{kind}_upstream"


def test_29_validation_order(fp: RunningServer, proxy: str) -> None:
    path = f"/proxies/{proxy}/toxics"
    # body first, even with a bad stream inside
    assert fp.request("POST", path, b'{"stream": "x",').json()["error"].startswith("bad request body")
    # stream before type
    reply = fp.request("POST", path, {"type": "bogus", "stream": "sideways"})
    assert reply.json()["error"].startswith("stream was invalid")
    # type before duplicate name
    fp.add_toxic(proxy, name="taken", type="noop")
    reply = fp.request("POST", path, {"name": "taken", "type": "bogus"})
    assert reply.status == 400 and reply.json()["error"] == "invalid toxic type"
    # duplicate name before attributes
    reply = fp.request("POST", path, {"name": "taken", "type": "latency", "attributes": {"latency": "x"}})
    assert reply.status == 409
    # attributes last
    reply = fp.request("POST", path, {"name": "fresh", "type": "latency", "attributes": {"latency": "x"}})
    assert reply.status == 400
    assert reply.json()["error"].startswith("bad request body: json: cannot unmarshal string")
    reply = fp.request("POST", path, {"name": "fresh", "type": "latency", "attributes": {"latency": 1.5}})
    assert reply.status == 400


def test_30_stream_is_case_insensitive_but_must_be_valid(fp: RunningServer, proxy: str) -> None:
    reply = fp.request("POST", f"/proxies/{proxy}/toxics", {"type": "noop", "stream": "UpStream"})
    assert reply.status == 200
    assert reply.json()["stream"] == "UpStream"
    assert reply.json()["name"] == "noop_UpStream"
    for stream in ("walrustream", ""):
        reply = fp.request("POST", f"/proxies/{proxy}/toxics", {"type": "noop", "stream": stream})
        assert reply.status == 400
        assert reply.body == (
            b'{"error":"stream was invalid, can be either upstream or downstream","status":400}\n'
        )


def test_31_all_toxic_types_are_valid_and_others_are_not(fp: RunningServer, proxy: str) -> None:
    for kind in (
        "latency",
        "bandwidth",
        "slow_close",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
        "noop",
    ):
        assert fp.request("POST", f"/proxies/{proxy}/toxics", {"type": kind}).status == 200, kind
    for kind in ("Latency", "down", "", "corrupt"):
        reply = fp.request("POST", f"/proxies/{proxy}/toxics", {"type": kind, "name": f"n{kind}"})
        assert reply.status == 400 and reply.json()["error"] == "invalid toxic type", kind


def test_32_names_are_unique_across_streams(fp: RunningServer, proxy: str) -> None:
    fp.add_toxic(proxy, name="same", type="latency", attributes={"latency": 1})
    reply = fp.request(
        "POST", f"/proxies/{proxy}/toxics", {"name": "same", "type": "noop", "stream": "upstream"}
    )
    assert reply.status == 409
    assert reply.body == b'{"error":"toxic already exists","status":409}\n'
    kept = fp.request("GET", f"/proxies/{proxy}/toxics/same").json()
    assert kept["type"] == "latency" and kept["attributes"]["latency"] == 1


def test_33_default_names_allow_one_per_stream_and_named_ones_coexist(fp: RunningServer, proxy: str) -> None:
    fp.add_toxic(proxy, type="latency", stream="upstream")
    fp.add_toxic(proxy, type="latency", stream="downstream")
    assert fp.request("POST", f"/proxies/{proxy}/toxics", {"type": "latency"}).status == 409
    fp.add_toxic(proxy, type="latency", name="l1")
    fp.add_toxic(proxy, type="latency", name="l2")
    assert len(fp.request("GET", f"/proxies/{proxy}/toxics").json()) == 4


def test_34_toxicity_is_stored_as_given(fp: RunningServer, proxy: str) -> None:
    for name, toxicity in (("a", 0.2), ("b", 0), ("c", 5), ("d", -1.5)):
        reply = fp.add_toxic(proxy, name=name, type="noop", toxicity=toxicity)
        assert reply.json()["toxicity"] == toxicity
    assert b'"toxicity":0.2' in fp.request("GET", f"/proxies/{proxy}/toxics/a").body


def test_35_unknown_proxy_or_toxic_is_404(fp: RunningServer, proxy: str) -> None:
    for method in ("GET", "POST"):
        reply = fp.request(method, "/proxies/ghost/toxics", {"type": "noop"} if method == "POST" else None)
        assert reply.status == 404 and reply.json()["error"] == "proxy not found"
    for method in ("GET", "POST", "PATCH", "DELETE"):
        reply = fp.request(
            method, f"/proxies/{proxy}/toxics/ghost", {} if method in ("POST", "PATCH") else None
        )
        assert reply.status == 404, method
        assert reply.body == b'{"error":"toxic not found","status":404}\n'


def test_36_update_merges_attributes_and_toxicity_only(fp: RunningServer, proxy: str) -> None:
    fp.add_toxic(proxy, name="lat", type="latency", attributes={"latency": 100, "jitter": 10}, toxicity=0.5)
    body = {"attributes": {"jitter": 3}, "name": "renamed", "type": "noop", "stream": "upstream"}
    for method in ("POST", "PATCH"):
        reply = fp.request(method, f"/proxies/{proxy}/toxics/lat", body)
        assert reply.status == 200
        assert reply.json() == {
            "attributes": {"latency": 100, "jitter": 3},
            "name": "lat",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 0.5,
        }
    reply = fp.request("PATCH", f"/proxies/{proxy}/toxics/lat", {"toxicity": 0.25})
    assert reply.json()["toxicity"] == 0.25
    assert reply.json()["attributes"] == {"latency": 100, "jitter": 3}
    reply = fp.request("PATCH", f"/proxies/{proxy}/toxics/lat", b"{oops")
    assert reply.status == 400 and reply.json()["error"].startswith("bad request body")


def test_37_delete_toxic(fp: RunningServer, proxy: str) -> None:
    fp.add_toxic(proxy, name="gone", type="noop")
    reply = fp.request("DELETE", f"/proxies/{proxy}/toxics/gone")
    assert reply.status == 204 and reply.body == b""
    assert fp.request("GET", f"/proxies/{proxy}/toxics").json() == []
    assert fp.request("DELETE", f"/proxies/{proxy}/toxics/gone").status == 404


def test_38_reset_enables_everything_and_removes_toxics(fp: RunningServer, echo: Upstream) -> None:
    _host, port = fp.create_proxy(echo.port, name="one")
    fp.create_proxy(echo.port, name="two")
    fp.add_toxic("one", type="timeout", attributes={"timeout": 0})
    fp.add_toxic("two", type="latency", stream="upstream")
    fp.request("PATCH", "/proxies/one", {"enabled": False})
    assert refused(port)
    reply = fp.request("POST", "/reset")
    assert reply.status == 204 and reply.body == b""
    proxies = fp.request("GET", "/proxies").json()
    assert set(proxies) == {"one", "two"}
    assert all(proxy["enabled"] and proxy["toxics"] == [] for proxy in proxies.values())
    assert proxies["one"]["listen"] == f"127.0.0.1:{port}"
    client = connect(port)
    client.sendall(b"back")
    assert recv_exactly(client, 4) == b"back"
    client.close()
