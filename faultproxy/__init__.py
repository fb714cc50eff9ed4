"""A Toxiproxy-compatible fault proxy: Toxiproxy 2.x's HTTP API and toxics on asyncio, stdlib only.

Run it as ``faultproxy -host 0.0.0.0 -port 8474 [-config proxies.json] [-proxy-metrics]`` or embed
``FaultProxyServer`` (server.py). The API document it follows is shared/toxiproxy-api.md.
"""

from __future__ import annotations

__version__ = "0.1.0"
API_VERSION = "2.12.0"
"""The Toxiproxy release whose API and semantics this server copies."""

VERSION = f"{API_VERSION}+faultproxy.{__version__}"
"""What GET /version answers."""
