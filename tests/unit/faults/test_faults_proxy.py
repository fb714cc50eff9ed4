"""Proxy faults against the real fault proxy, driven through toxiproxy-python, read back through its API."""

from __future__ import annotations

import pytest

from harness.faults import FaultError, FaultRefused, ProxyApi, ProxyFault
from harness.faults.proxy import Toxic

TOXICS = [
    ("latency", (("jitter", 5), ("latency", 300)), "downstream", 1.0),
    ("timeout", (("timeout", 2000),), "upstream", 1.0),
    ("reset_peer", (("timeout", 100),), "downstream", 0.5),
    ("bandwidth", (("rate", 16),), "upstream", 1.0),
]


@pytest.mark.parametrize(("kind", "attributes", "stream", "toxicity"), TOXICS)
def test_toxic_is_present_with_its_attributes_then_removed(
    proxy_url: str, kind: str, attributes: tuple, stream: str, toxicity: float
) -> None:
    api = ProxyApi(proxy_url)
    fault = ProxyFault(kind, "redis", proxy_url, attributes, stream, toxicity)  # type: ignore[arg-type]
    assert not fault.in_force()
    fault.inject()
    assert fault.in_force()
    toxic = api.proxy("redis").toxic(f"harness-{kind}-{stream}")
    assert toxic == Toxic(f"harness-{kind}-{stream}", kind, stream, toxicity, attributes)
    assert api.proxy("postgres").toxics == ()
    fault.revert()
    assert api.proxy("redis").toxics == () and not fault.in_force()
    fault.revert()  # twice: the toxic is gone (404), harmless
    assert api.proxy("redis").toxics == ()


def test_down_disables_and_revert_enables(proxy_url: str) -> None:
    api = ProxyApi(proxy_url)
    fault = ProxyFault("down", "postgres", proxy_url)
    fault.inject()
    assert api.proxy("postgres").enabled is False and fault.in_force()
    assert api.proxy("redis").enabled is True
    fault.revert()
    fault.revert()
    assert api.proxy("postgres").enabled is True and not fault.in_force()


def test_in_force_sees_a_toxic_changed_behind_the_faults_back(proxy_url: str) -> None:
    fault = ProxyFault("latency", "redis", proxy_url, (("latency", 300),))
    fault.inject()
    ProxyApi(proxy_url)._call(
        "POST", "/proxies/redis/toxics/harness-latency-downstream", {"attributes": {"latency": 1}}
    )
    assert not fault.in_force()


def test_down_on_a_disabled_proxy_proves_nothing_and_is_refused(proxy_url: str) -> None:
    ProxyApi(proxy_url).set_enabled("redis", False)
    with pytest.raises(FaultRefused, match="disabled already"):
        ProxyFault("down", "redis", proxy_url).inject()


def test_unknown_proxy_fails_inject_and_revert_is_harmless(proxy_url: str) -> None:
    fault = ProxyFault("latency", "nope", proxy_url, (("latency", 10),))
    with pytest.raises(FaultError, match="not found"):
        fault.inject()
    fault.revert()


def test_a_toxic_left_by_a_crashed_run_fails_the_inject(proxy_url: str) -> None:
    fault = ProxyFault("latency", "redis", proxy_url, (("latency", 10),))
    fault.inject()
    with pytest.raises(FaultRefused, match="there already"):
        fault.inject()
    assert len(ProxyApi(proxy_url).proxy("redis").toxics) == 1


def test_server_errors_are_not_taken_for_success(proxy_url: str) -> None:
    fault = ProxyFault("latency", "redis", proxy_url, (("latency", 10),), stream="sideways")
    with pytest.raises(FaultError, match="stream was invalid"):
        fault.inject()


def test_no_server_is_a_fault_error() -> None:
    with pytest.raises(FaultError, match="does not answer"):
        ProxyFault("down", "redis", "http://127.0.0.1:9").inject()


def test_describe_and_record() -> None:
    fault = ProxyFault("latency", "redis", "http://127.0.0.1:10010", (("latency", 3000),), toxicity=0.5)
    assert fault.describe() == "proxy redis latency downstream (latency=3000, toxicity 0.5)"
    record = fault.record()
    assert (record.kind, record.target, record.location) == (
        "proxy_latency",
        "redis",
        "http://127.0.0.1:10010",
    )
