"""Proxy faults through a Toxiproxy-compatible API, with toxiproxy-python: down, latency, timeout,
reset_peer, bandwidth.

``down`` disables the proxy (it stops listening and drops its connections); the others add a toxic named
``harness-<type>-<stream>`` so that a sweep can tell the harness's toxics from anyone else's. Each is
proven by reading the proxy back (``enabled`` false, or the toxic present with its attributes), and
reverted by enabling the proxy or removing the toxic (a toxic already gone is fine).

toxiproxy-python 0.1.1 keeps the server address in class attributes, sends requests without a timeout
and does not raise on HTTP 500, so the calls go through its ``APIConsumer`` with the address set from the
URL, a timeout, and every status checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from harness.faults.base import FaultError, FaultRecord, FaultRefused

ProxyKind = Literal["down", "latency", "timeout", "reset_peer", "bandwidth"]
PROXY_KINDS: tuple[ProxyKind, ...] = ("down", "latency", "timeout", "reset_peer", "bandwidth")
TOXIC_PREFIX = "harness-"


def toxic_name(kind: str, stream: str) -> str:
    return f"{TOXIC_PREFIX}{kind}-{stream}"


@dataclass(frozen=True, slots=True)
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ProxyState:
    name: str
    enabled: bool
    toxics: tuple[Toxic, ...]

    def toxic(self, name: str) -> Toxic | None:
        return next((t for t in self.toxics if t.name == name), None)


class ProxyNotFound(FaultError):
    pass


class ProxyApi:
    """One fault proxy's HTTP API, spoken through toxiproxy-python's APIConsumer."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if not parts.hostname:
            raise FaultError(f"fault proxy URL {url!r} has no host")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 8474
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        APIConsumer.host, APIConsumer.port = self.host, self.port
        try:
            if method == "GET":
                response = APIConsumer.get(path, timeout=self.timeout)
            elif method == "POST":
                response = APIConsumer.post(path, json=body, timeout=self.timeout)
            else:
                response = APIConsumer.delete(path, timeout=self.timeout)
        except NotFound as exc:
            raise ProxyNotFound(f"fault proxy {self.url}: {method} {path}: not found") from exc
        except (InvalidToxic, ProxyExists) as exc:
            raise FaultError(f"fault proxy {self.url}: {method} {path}: {_text(exc)}") from exc
        except requests.RequestException as exc:
            raise FaultError(f"fault proxy {self.url} does not answer: {exc}") from exc
        if response.status_code >= 300:
            raise FaultError(
                f"fault proxy {self.url}: {method} {path}: HTTP {response.status_code} {response.text.strip()}"
            )
        try:
            return response.json() if response.content else None
        except ValueError as exc:
            raise FaultError(
                f"fault proxy {self.url}: {method} {path}: not JSON: {response.text[:200]}"
            ) from exc

    def proxies(self) -> list[ProxyState]:
        return [_proxy_state(p) for p in (self._call("GET", "/proxies") or {}).values()]

    def proxy(self, name: str) -> ProxyState:
        return _proxy_state(self._call("GET", f"/proxies/{_quoted(name)}"))

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._call("POST", f"/proxies/{_quoted(name)}", {"enabled": enabled})

    def add_toxic(self, proxy: str, toxic: Toxic) -> None:
        body = {
            "name": toxic.name,
            "type": toxic.type,
            "stream": toxic.stream,
            "toxicity": toxic.toxicity,
            "attributes": dict(toxic.attributes),
        }
        self._call("POST", f"/proxies/{_quoted(proxy)}/toxics", body)

    def remove_toxic(self, proxy: str, name: str) -> bool:
        """Delete a toxic; False when it (or its proxy) was not there."""
        try:
            self._call("DELETE", f"/proxies/{_quoted(proxy)}/toxics/{_quoted(name)}")
        except ProxyNotFound:
            return False
        return True


def _quoted(name: str) -> str:
    return quote(name, safe="")


def _text(exc: Exception) -> str:
    content = exc.args[0] if exc.args else b""
    return content.decode(errors="replace").strip() if isinstance(content, bytes) else str(content)


def _proxy_state(document: dict[str, Any]) -> ProxyState:
    try:
        toxics = tuple(
            Toxic(
                t["name"],
                t["type"],
                t["stream"],
                float(t.get("toxicity", 1.0)),
                tuple(sorted((k, int(v)) for k, v in (t.get("attributes") or {}).items())),
            )
            for t in document.get("toxics") or ()
        )
        return ProxyState(document["name"], bool(document["enabled"]), toxics)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FaultError(f"fault proxy answered an unexpected proxy document: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ProxyFault:
    kind: ProxyKind
    target: str
    """The proxy's name in the fault proxy."""
    api_url: str
    attributes: tuple[tuple[str, int], ...] = ()
    """Toxic attributes (ms, or KB/s for bandwidth), as integers like Toxiproxy's own."""
    stream: str = "downstream"
    toxicity: float = 1.0

    def describe(self) -> str:
        if self.kind == "down":
            return f"proxy {self.target} down"
        settings = ", ".join(f"{k}={v}" for k, v in self.attributes)
        extra = f", toxicity {self.toxicity:g}" if self.toxicity != 1.0 else ""
        return f"proxy {self.target} {self.kind} {self.stream} ({settings}{extra})"

    def record(self) -> FaultRecord:
        return FaultRecord(f"proxy_{self.kind}", self.target, self.api_url, self.stream)

    def _toxic(self) -> Toxic:
        return Toxic(
            toxic_name(self.kind, self.stream), self.kind, self.stream, self.toxicity, self.attributes
        )

    def inject(self) -> None:
        api = ProxyApi(self.api_url)
        before = api.proxy(self.target)
        if self.kind == "down":
            if not before.enabled:
                raise FaultRefused(f"cannot take {self.describe()}: it is disabled already")
            api.set_enabled(self.target, False)
        else:
            wanted = self._toxic()
            if before.toxic(wanted.name) is not None:
                raise FaultRefused(
                    f"cannot add {self.describe()}: toxic {wanted.name} is there already (`harness clean`)"
                )
            api.add_toxic(self.target, wanted)
        if not self.in_force():
            raise FaultError(f"{self.describe()}: not in force when read back: {api.proxy(self.target)}")

    def in_force(self) -> bool:
        state = ProxyApi(self.api_url).proxy(self.target)
        if self.kind == "down":
            return not state.enabled
        found = state.toxic(toxic_name(self.kind, self.stream))
        return found is not None and _matches(self._toxic(), found)

    def revert(self) -> None:
        api = ProxyApi(self.api_url)
        try:
            if self.kind == "down":
                api.set_enabled(self.target, True)
                if not api.proxy(self.target).enabled:
                    raise FaultError(f"reverting {self.describe()}: the proxy still reads disabled")
                return
            name = toxic_name(self.kind, self.stream)
            api.remove_toxic(self.target, name)
            if api.proxy(self.target).toxic(name) is not None:
                raise FaultError(f"reverting {self.describe()}: toxic {name} is still there")
        except ProxyNotFound:
            return  # the proxy itself is gone: no fault of ours is left on it


def _matches(wanted: Toxic, found: Toxic) -> bool:
    """The server fills in attributes we left out (with zero), so ours need only be a subset."""
    return (
        (found.type, found.stream) == (wanted.type, wanted.stream)
        and abs(found.toxicity - wanted.toxicity) < 1e-9
        and set(wanted.attributes) <= set(found.attributes)
    )
