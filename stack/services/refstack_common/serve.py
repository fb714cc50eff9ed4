"""Serving an aiohttp app the stack's way: the JSON log lines are the only output (no access log, no banner)."""

from __future__ import annotations

from aiohttp import web


def run_app(app: web.Application, *, host: str, port: int, shutdown_timeout: float) -> None:
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=shutdown_timeout)
