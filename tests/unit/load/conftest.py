"""Fixtures for the load tests (see load_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from load_support import StubPushgateway, serving


@pytest.fixture
def pushgateway() -> Iterator[StubPushgateway]:
    stub = StubPushgateway()
    with serving(stub.server):
        yield stub
