"""The fault proxy server: the API on its port plus every proxy, on one asyncio loop.

``FaultProxyServer`` is what the CLI runs and what tests embed::

    server = FaultProxyServer(host="127.0.0.1", port=0)
    await server.start()          # server.port is the bound API port
    ...
    await server.close()          # stops the API and every proxy, drops every connection
"""

from __future__ import annotations

import asyncio
import random

from faultproxy import VERSION, netaddr
from faultproxy.api import HANDLER_TIMEOUT, Api
from faultproxy.http import HttpServer, Limits
from faultproxy.logs import Logger
from faultproxy.proxy import Proxy, ProxyCollection, ProxySpec, Runtime


class FaultProxyServer:
    def __init__(
        self,
        host: str = "localhost",
        port: int = 8474,
        *,
        proxy_metrics: bool = False,
        runtime_metrics: bool = False,
        logger: Logger | None = None,
        seed: int | None = None,
        version: str = VERSION,
        limits: Limits | None = None,
        handler_timeout: float = HANDLER_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.proxy_metrics = proxy_metrics
        self.runtime_metrics = runtime_metrics
        self.logger = logger or Logger()
        self.rng = random.Random(seed)
        self.version = version
        self.limits = limits or Limits()
        self.handler_timeout = handler_timeout
        self._collection: ProxyCollection | None = None
        self._http: HttpServer | None = None

    @property
    def collection(self) -> ProxyCollection:
        if self._collection is None:
            raise RuntimeError("FaultProxyServer.start() has not been awaited")
        return self._collection

    def _ensure_collection(self) -> ProxyCollection:
        if self._collection is None:
            runtime = Runtime(asyncio.get_running_loop(), self.rng, self.logger, self.proxy_metrics)
            self._collection = ProxyCollection(runtime)
        return self._collection

    async def populate(self, specs: list[ProxySpec]) -> list[Proxy]:
        """Create or replace proxies, as POST /populate (raises PopulateError)."""
        collection = self._ensure_collection()
        async with collection.lock:
            return await collection.populate(specs)

    async def start(self) -> None:
        """Listen for the API (raises AddressError, with Go's text, if it cannot)."""
        collection = self._ensure_collection()
        api = Api(
            collection,
            self.logger,
            self.version,
            proxy_metrics=self.proxy_metrics,
            runtime_metrics=self.runtime_metrics,
            handler_timeout=self.handler_timeout,
        )
        self._http = HttpServer(api.handle, self.logger, self.limits)
        bound = await self._http.start(netaddr.join_host_port(self.host, self.port))
        self.port = int(bound.rsplit(":", 1)[1])
        self.logger.info("Starting Toxiproxy HTTP server", address=bound)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._collection is not None:
            self._collection.close()
        # Let aborted transports deliver connection_lost before the loop goes away.
        await asyncio.sleep(0)
