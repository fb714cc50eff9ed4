"""The toxiproxy-python client (0.1.1) drives the fault proxy end to end, as the harness does."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fp_support import RunningServer, Upstream, connect, recv_exactly, refused, split_listen
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists


@pytest.fixture
def toxiproxy(fp: RunningServer) -> Iterator[Toxiproxy]:
    saved = (APIConsumer.host, APIConsumer.port)
    APIConsumer.host, APIConsumer.port = "127.0.0.1", fp.port
    try:
        yield Toxiproxy()
    finally:
        APIConsumer.host, APIConsumer.port = saved


def _port(proxy: object) -> int:
    return split_listen(proxy.listen)[1]  # type: ignore[attr-defined]


def test_client_create_list_get_destroy(toxiproxy: Toxiproxy, echo: Upstream) -> None:
    assert toxiproxy.running()
    assert b'"version"' in toxiproxy.version()
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{echo.port}", name="redis")
    assert proxy.enabled is True and _port(proxy) > 0
    assert set(toxiproxy.proxies()) == {"redis"}
    fetched = toxiproxy.get_proxy("redis")
    assert fetched is not None and fetched.upstream == f"127.0.0.1:{echo.port}"
    assert toxiproxy.get_proxy("nope") is None
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream="127.0.0.1:9", name="redis")
    client = connect(_port(proxy))
    client.sendall(b"hi")
    assert recv_exactly(client, 2) == b"hi"
    client.close()
    assert toxiproxy.destroy(proxy) is True
    assert toxiproxy.proxies() == {}
    assert refused(_port(proxy))
    with pytest.raises(NotFound):
        proxy.toxics()


def test_client_add_and_remove_toxics(toxiproxy: Toxiproxy, echo: Upstream) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{echo.port}", name="pg")
    proxy.add_toxic(type="latency", attributes={"latency": 150, "jitter": 0})
    proxy.add_toxic(type="bandwidth", stream="upstream", name="thin", attributes={"rate": 5000}, toxicity=0.9)
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "thin"}
    assert toxics["thin"].stream == "upstream" and toxics["thin"].toxicity == 0.9
    assert proxy.get_toxic("latency_downstream").attributes == {"latency": 150, "jitter": 0}
    with pytest.raises(ProxyExists):
        proxy.add_toxic(type="latency")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    client = connect(_port(proxy))
    started = time.monotonic()
    client.sendall(b"q")
    recv_exactly(client, 1)
    assert time.monotonic() - started >= 0.150
    proxy.destroy_toxic("latency_downstream")
    proxy.destroy_toxic("thin")
    assert proxy.toxics() == {}
    started = time.monotonic()
    client.sendall(b"q")
    recv_exactly(client, 1)
    assert time.monotonic() - started < 0.1
    client.close()


def test_client_disable_enable_and_down(toxiproxy: Toxiproxy, echo: Upstream) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{echo.port}", name="mq")
    proxy.add_toxic(type="latency", attributes={"latency": 1})
    proxy.disable()
    assert proxy.enabled is False and refused(_port(proxy))
    assert toxiproxy.get_proxy("mq").enabled is False
    proxy.enable()
    connect(_port(proxy)).close()
    with proxy.down():
        assert refused(_port(proxy))
    connect(_port(proxy)).close()
    assert set(proxy.toxics()) == {"latency_downstream"}


def test_client_populate_and_reset(toxiproxy: Toxiproxy, echo: Upstream) -> None:
    created = toxiproxy.populate(
        [
            {"name": "a", "upstream": f"127.0.0.1:{echo.port}", "listen": "127.0.0.1:0"},
            {"name": "b", "upstream": f"127.0.0.1:{echo.port}", "listen": "127.0.0.1:0"},
        ]
    )
    assert sorted(proxy.name for proxy in created) == ["a", "b"]
    a = toxiproxy.get_proxy("a")
    a.add_toxic(type="timeout", attributes={"timeout": 0})
    a.disable()
    assert toxiproxy.reset() is True
    a = toxiproxy.get_proxy("a")
    assert a.enabled is True and a.toxics() == {}
    client = connect(_port(a))
    client.sendall(b"ok")
    assert recv_exactly(client, 2) == b"ok"
    client.close()
    toxiproxy.destroy_all()
    assert toxiproxy.proxies() == {}
