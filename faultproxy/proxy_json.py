"""Proxy request bodies as Toxiproxy decodes them (api.go ProxyCreate/ProxyUpdate, PopulateJson)."""

from __future__ import annotations

from faultproxy import errors, jsonwire
from faultproxy.jsonwire import DecodeError
from faultproxy.proxy import Proxy, ProxySpec

_FIELDS = ("name", "listen", "upstream", "enabled")
_WHERE = "Go struct field Proxy"


def _spec(value: object, defaults: ProxySpec, go_type: str) -> ProxySpec:
    fields = jsonwire.fold_pairs(value, _FIELDS, go_type)
    return ProxySpec(
        name=jsonwire.take_str(fields.get("name", defaults.name), f"{_WHERE}.name"),
        listen=jsonwire.take_str(fields.get("listen", defaults.listen), f"{_WHERE}.listen"),
        upstream=jsonwire.take_str(fields.get("upstream", defaults.upstream), f"{_WHERE}.upstream"),
        enabled=jsonwire.take_bool(fields.get("enabled", defaults.enabled), f"{_WHERE}.enabled"),
    )


def parse_create(body: bytes) -> ProxySpec:
    """POST /proxies: enabled defaults to true; name, then upstream, must be non-empty."""
    try:
        spec = _spec(jsonwire.decode_first(body), ProxySpec("", "", "", True), "toxiproxy.Proxy")
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None
    if not spec.name:
        raise errors.missing_field("name")
    if not spec.upstream:
        raise errors.missing_field("upstream")
    return spec


def parse_update(body: bytes, current: Proxy) -> ProxySpec:
    """POST/PATCH /proxies/{name}: omitted fields keep the proxy's current values."""
    defaults = ProxySpec(current.name, current.listen, current.upstream, current.enabled)
    try:
        return _spec(jsonwire.decode_first(body), defaults, "toxiproxy.Proxy")
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None


def parse_populate_value(value: object) -> list[ProxySpec]:
    """A decoded populate document: every entry is checked before anything is created."""
    if value is None:
        return []
    if not isinstance(value, list) or isinstance(value, jsonwire.Pairs):
        raise errors.bad_request_body(
            f"json: cannot unmarshal {jsonwire.go_kind(value)} into Go value of type []toxiproxy.Proxy"
        )
    specs = []
    try:
        for item in value:
            raw = item if item is not None else jsonwire.Pairs()
            specs.append(_spec(raw, ProxySpec("", "", "", True), "toxiproxy.Proxy"))
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None
    for index, spec in enumerate(specs, start=1):
        if not spec.name:
            raise errors.missing_field(f"name at proxy {index}")
        if not spec.upstream:
            raise errors.missing_field(f"upstream at proxy {index}")
    return specs


def parse_populate(body: bytes) -> list[ProxySpec]:
    try:
        value = jsonwire.decode_first(body)
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None
    return parse_populate_value(value)
