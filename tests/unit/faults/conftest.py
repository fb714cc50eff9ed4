"""The real fault proxy, in process on 127.0.0.1:<ephemeral>, with proxies redis and postgres; and a
state folder of each test's own (locks and journals), never the user's."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from toxiproxy.api import APIConsumer

from faultproxy.logs import Logger
from faultproxy.server import FaultProxyServer
from harness.faults.proxy import ProxyApi
from harness.state import STATE_DIR_ENV

TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(STATE_DIR_ENV, str(state))
    return state


async def _cancel_the_rest() -> None:
    """A connection accepted just before close() may not have registered with the server yet, so the
    server cannot cancel it; cancel it here, or the closed loop leaves a never-finished coroutine."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def proxy_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="faultproxy-loop", daemon=True)
    thread.start()
    server = FaultProxyServer("127.0.0.1", 0, seed=1, logger=Logger(io.StringIO(), "info"))
    saved = (APIConsumer.host, APIConsumer.port)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(TIMEOUT)
    try:
        url = f"http://127.0.0.1:{server.port}"
        api = ProxyApi(url)
        for name in ("redis", "postgres"):
            # upstreams are never dialled: the tests read state through the API only
            api._call("POST", "/proxies", {"name": name, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"})
        yield url
    finally:
        APIConsumer.host, APIConsumer.port = saved
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(TIMEOUT)
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()
