"""``python -m faultproxy.healthcheck [-host 127.0.0.1] [-port 8474] [-timeout 2]``: a container healthcheck.

Exits 0 when GET /version on the API answers 200 within the timeout, 1 otherwise (one line on stderr).
Stdlib only, so it works in an image that has python3 but no curl.
"""

from __future__ import annotations

import http.client
import sys
from collections.abc import Sequence

from faultproxy import netaddr
from faultproxy.cli import parse_go_flags
from faultproxy.errors import ConfigError


def check(host: str, port: int, timeout: float) -> str | None:
    """None when the API answers; otherwise why not."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/version", headers={"User-Agent": "faultproxy-healthcheck"})
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as exc:
        return f"{netaddr.join_host_port(host, port)}: {exc}"
    finally:
        connection.close()
    if response.status != 200:
        return f"{netaddr.join_host_port(host, port)}: /version answered {response.status}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        values = parse_go_flags(
            list(sys.argv[1:] if argv is None else argv), set(), {"host", "port", "timeout"}
        )
        host = str(values.get("host", "127.0.0.1"))
        port = int(str(values.get("port", "8474")))
        timeout = float(str(values.get("timeout", "2")))
    except (ConfigError, ValueError) as exc:
        print(f"faultproxy.healthcheck: {exc}", file=sys.stderr)
        return 2
    problem = check(host, port, timeout)
    if problem is not None:
        print(f"faultproxy.healthcheck: unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
