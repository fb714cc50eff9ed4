"""Fixtures for the load tests (see load_support.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from load_support import StubPushgateway


@pytest.fixture
def pushgateway() -> Iterator[StubPushgateway]:
    stub = StubPushgateway()
    thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.server.shutdown()
        stub.server.server_close()
