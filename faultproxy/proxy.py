"""Proxies and the collection of them (Toxiproxy's proxy.go and proxy_collection.go).

A proxy listens on ``listen`` and relays each accepted client to ``upstream`` through a Link.
``enabled`` is whether it listens: stopping closes the listener and drops every connection; toxics
are kept. ``listen`` is rewritten to the bound address when the proxy starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

from faultproxy import errors, netaddr
from faultproxy.errors import FaultProxyError
from faultproxy.link import Link
from faultproxy.logs import Logger
from faultproxy.metrics import ProxySample, ProxyStats
from faultproxy.toxic_collection import ToxicCollection
from faultproxy.toxics import Direction, Toxic


class ProxyAlreadyStarted(FaultProxyError):
    """Internal: start() on a running proxy (ignored by /reset), as Toxiproxy's ErrProxyAlreadyStarted."""

    def __init__(self) -> None:
        super().__init__("Proxy already started")


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every proxy shares: the loop, randomness, the logger, whether to count bytes."""

    loop: asyncio.AbstractEventLoop
    rng: random.Random
    logger: Logger
    count_bytes: bool


@dataclass(frozen=True, slots=True)
class ProxySpec:
    """A proxy as a client asks for it (create, populate)."""

    name: str
    listen: str
    upstream: str
    enabled: bool


class Proxy:
    """One listening proxy and its open connections."""

    def __init__(self, spec: ProxySpec, runtime: Runtime) -> None:
        self.name = spec.name
        self.listen = spec.listen
        self.upstream = spec.upstream
        self.enabled = False
        self.loop = runtime.loop
        self.rng = runtime.rng
        self.logger = runtime.logger
        self.stats = ProxyStats() if runtime.count_bytes else None
        self.links: set[Link] = set()
        self.toxics = ToxicCollection(lambda: self.links)
        self._server: asyncio.Server | None = None

    # -- LinkOwner -------------------------------------------------------------------------
    def chain(self, direction: Direction) -> list[Toxic]:
        return self.toxics.chain(direction)

    def link_opened(self, link: Link) -> bool:
        if not self.enabled:
            return False
        self.links.add(link)
        if self.stats is not None:
            self.stats.connections_total += 1
        return True

    def link_closed(self, link: Link) -> None:
        self.links.discard(link)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self.enabled:
            raise ProxyAlreadyStarted()
        sock, bound = await netaddr.open_listener(self.listen)
        try:
            self._server = await self.loop.create_server(
                lambda: Link(self).client, sock=sock, backlog=netaddr.LISTEN_BACKLOG
            )
        except OSError as exc:
            sock.close()
            raise errors.AddressError(f"listen tcp {bound}: listen: {exc.strerror or exc}") from None
        self.listen = bound
        self.enabled = True
        self.logger.info("Started proxy", name=self.name, proxy=self.listen, upstream=self.upstream)

    def stop(self) -> None:
        """Stop listening and drop every connection; a no-op when already stopped."""
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self.links):
            link.abort()
        self.logger.info("Terminated proxy", name=self.name, proxy=self.listen, upstream=self.upstream)

    async def differs(self, listen: str, upstream: str) -> bool:
        """Proxy.Differs (v2.12): compares the resolved ``listen``, so localhost:P equals 127.0.0.1:P."""
        resolved = str(await netaddr.resolve(listen))
        return self.listen != resolved or self.upstream != upstream

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        if await self.differs(listen, upstream):
            self.stop()
            self.listen = listen
            self.upstream = upstream
        if enabled != self.enabled:
            if enabled:
                await self.start()
            else:
                self.stop()

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},  # Go emits the proxy's exported Logger field; kept for byte-level parity
            "toxics": [toxic.to_json() for toxic in self.toxics.all()],
        }

    def sample(self) -> ProxySample:
        stats = self.stats or ProxyStats()
        return ProxySample(
            name=self.name,
            listen=self.listen,
            upstream=self.upstream,
            enabled=self.enabled,
            connections_active=len(self.links),
            connections_total=stats.connections_total,
            received=(stats.received[0], stats.received[1]),
            sent=(stats.sent[0], stats.sent[1]),
            toxics=self.toxics.counts(),
        )


class PopulateError(FaultProxyError):
    """Populate stopped at an entry; ``done`` are the proxies handled before it."""

    def __init__(self, error: errors.ApiError, done: list[Proxy]) -> None:
        super().__init__(error.message)
        self.error = error
        self.done = done


class ProxyCollection:
    """All proxies by name. Mutations hold ``lock`` because starting a proxy awaits name resolution."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.proxy_not_found()
        return proxy

    def new(self, spec: ProxySpec) -> Proxy:
        return Proxy(spec, self.runtime)

    async def add(self, spec: ProxySpec) -> Proxy:
        if spec.name in self.proxies:
            raise errors.proxy_already_exists()
        proxy = self.new(spec)
        if spec.enabled:
            await proxy.start()
        self.proxies[spec.name] = proxy
        return proxy

    async def add_or_replace(self, spec: ProxySpec) -> Proxy:
        """An equal existing proxy is kept untouched; a differing one is stopped and replaced."""
        existing = self.proxies.get(spec.name)
        if existing is not None:
            if not await existing.differs(spec.listen, spec.upstream):
                return existing
            existing.stop()
        proxy = self.new(spec)
        if spec.enabled:
            await proxy.start()
        self.proxies[spec.name] = proxy
        return proxy

    async def populate(self, specs: list[ProxySpec]) -> list[Proxy]:
        done: list[Proxy] = []
        for spec in specs:
            try:
                done.append(await self.add_or_replace(spec))
            except FaultProxyError as exc:
                raise PopulateError(errors.as_api_error(exc), done) from None
        return done

    def remove(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    async def reset(self) -> None:
        """Start every proxy (running ones are left alone) and remove every toxic."""
        for proxy in list(self.proxies.values()):
            with contextlib.suppress(ProxyAlreadyStarted):
                await proxy.start()
            proxy.toxics.reset()

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
