"""The one place load may go: loopback. Kept free of Locust so tests can import it without gevent."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost",)
REMOTE_HOST_ENV = "LOAD_REMOTE_HOST"
"""The one non-loopback target allowed: the harness sets it only for a gateway slas.yaml names, and only
under --allow-remote-engine."""


def loopback_refusal(url: str | None, allowed_remote: str = "") -> str | None:
    """Why ``url`` is not an allowed load target (None when it is: http(s) to a loopback address, or
    exactly ``allowed_remote``)."""
    if not url:
        return "no host given"
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not hostname:
        return f"{url!r} is not an http(s) URL with a host"
    if hostname in LOOPBACK_NAMES or (allowed_remote and url == allowed_remote):
        return None
    try:
        loopback = ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return f"{hostname!r} is not loopback: load goes only to 127.0.0.1, localhost or [::1]"
