"""Fixtures for the fault proxy tests: a server per test, upstreams, always closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fp_support import RunningServer, Upstream


@pytest.fixture
def fp() -> Iterator[RunningServer]:
    running = RunningServer()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def fp_metrics() -> Iterator[RunningServer]:
    running = RunningServer(proxy_metrics=True)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def echo() -> Iterator[Upstream]:
    upstream = Upstream()
    try:
        yield upstream
    finally:
        upstream.close()
