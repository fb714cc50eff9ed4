"""What a load may be: within LoadBounds, named by a safe run id, aimed at loopback only.

The catalogue already refuses out-of-bounds scenarios with file:line; these checks guard the driver
itself, whoever calls it. load/loopback.py holds the locustfile's own copy of the loopback rule (the
locustfile must run without the harness installed).
"""

from __future__ import annotations

import ipaddress
import math
import re
from urllib.parse import urlsplit

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load.driver import LoadError

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_level(level: LoadLevel, duration: float, bounds: LoadBounds) -> None:
    """LoadError naming the first figure that is not positive or exceeds its bound."""
    figures = (
        ("users", level.users, bounds.max_users),
        ("rate", level.rate, bounds.max_rate),
        ("duration", duration, bounds.max_duration),
    )
    for name, value, bound in figures:
        if not (math.isfinite(value) and value > 0):
            raise LoadError(f"load {name} must be positive, not {value:g}")
        if value > bound:
            raise LoadError(f"load {name} {value:g} exceeds its bound {bound:g}")
    if not (math.isfinite(level.spawn_rate) and level.spawn_rate > 0):
        raise LoadError(f"load spawn rate must be positive, not {level.spawn_rate:g}")


def check_run_id(run_id: str) -> None:
    """The run id becomes a Pushgateway URL path segment and a label value."""
    if not _RUN_ID.match(run_id):
        raise LoadError(f"run id {run_id!r}: use 1-128 of letters, digits, '.', '_', '-'")


def check_loopback(url: str, remote_allowed: bool = False) -> None:
    """LoadError unless ``url`` is http(s) to 127.0.0.0/8, ::1 or localhost (any host when
    ``remote_allowed``: --allow-remote-engine and a gateway slas.yaml names)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        raise LoadError(f"load host {url!r} is not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not hostname:
        raise LoadError(f"load host {url!r} is not an http(s) URL with a host")
    if hostname == "localhost" or remote_allowed:
        return
    try:
        if ipaddress.ip_address(hostname).is_loopback:
            return
    except ValueError:
        pass
    raise LoadError(f"load host {url!r} is not loopback: load goes only to 127.0.0.1, localhost or [::1]")
