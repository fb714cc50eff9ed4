"""Unit tests of the Go-compatibility helpers: JSON wire format, addresses, paths."""

from __future__ import annotations

import asyncio

import pytest

from faultproxy import jsonwire, netaddr
from faultproxy.api import clean_path
from faultproxy.errors import AddressError
from faultproxy.jsonwire import DecodeError, Pairs


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.2, "0.2"),
        (0.5, "0.5"),
        (1e-7, "1e-7"),
        (1.5e22, "1.5e+22"),
        (0.123456789, "0.12345679"),
        (7, "7"),
    ],
)
def test_numbers_print_like_go_float32(value: float, text: str) -> None:
    assert jsonwire.format_number(value) == text


def test_encode_is_compact_ordered_and_escapes_like_go() -> None:
    value = {"b": [1, None, True], "a": "<&>\u2028\n\x01é"}
    assert (
        jsonwire.encode(value) == '{"b":[1,null,true],"a":"\\u003c\\u0026\\u003e\\u2028\\n\\u0001é"}'.encode()
    )


def test_fold_pairs_matches_keys_like_go() -> None:
    value = jsonwire.decode_first(b'{"Name": "a", "NAME": "b", "other": 1, "listen": null}')
    assert isinstance(value, Pairs)
    assert jsonwire.fold_pairs(value, ["name", "listen"], "T") == {"name": "b"}
    with pytest.raises(DecodeError, match="cannot unmarshal array into Go value of type T"):
        jsonwire.fold_pairs([1], ["name"], "T")


@pytest.mark.parametrize(
    ("take", "value", "message"),
    [
        (jsonwire.take_int64, 1.5, "cannot unmarshal number 1.5 into F of type int64"),
        (jsonwire.take_int64, 2**63, "of type int64"),
        (jsonwire.take_int64, True, "cannot unmarshal bool into F of type int64"),
        (jsonwire.take_str, 3, "cannot unmarshal number 3 into F of type string"),
        (jsonwire.take_bool, "yes", "cannot unmarshal string into F of type bool"),
    ],
)
def test_wrong_types_are_go_errors(take: object, value: object, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        take(value, "F")  # type: ignore[operator]


@pytest.mark.parametrize(
    ("addr", "error"),
    [
        ("local373", "address local373: missing port in address"),
        ("a:b:c", "address a:b:c: too many colons in address"),
        ("[::1", "address [::1: missing ']' in address"),
        ("[::1]", "address [::1]: missing port in address"),
    ],
)
def test_split_host_port_errors_are_gos(addr: str, error: str) -> None:
    with pytest.raises(AddressError, match=error.replace("[", r"\[").replace("]", r"\]")):
        netaddr.split_host_port(addr)


def test_resolve_prints_like_go() -> None:
    async def resolve_all() -> list[str]:
        return [
            str(await netaddr.resolve(addr))
            for addr in ("localhost:80", "", ":5", "[::1]:7", "127.0.0.1:http")
        ]

    assert asyncio.run(resolve_all()) == ["127.0.0.1:80", ":0", ":5", "[::1]:7", "127.0.0.1:80"]


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("/proxies", "/proxies"),
        ("//proxies", "/proxies"),
        ("/a/../b/", "/b/"),
        ("/proxies/", "/proxies/"),
        ("", "/"),
    ],
)
def test_clean_path_like_gorilla(path: str, clean: str) -> None:
    assert clean_path(path) == clean
