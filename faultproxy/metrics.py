"""Prometheus text exposition for ``-proxy-metrics`` (Toxiproxy's collectors/proxy.go, plus more).

Toxiproxy's own series are kept under their names (``toxiproxy_proxy_received_bytes_total`` and
``toxiproxy_proxy_sent_bytes_total`` with labels direction, proxy, listener, upstream) so dashboards
work with either server; connections and active toxics are added under ``faultproxy_``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ProxyStats:
    """Live counters of one proxy, indexed by Direction (0 upstream, 1 downstream)."""

    __slots__ = ("connections_total", "received", "sent")

    def __init__(self) -> None:
        self.received = [0, 0]
        self.sent = [0, 0]
        self.connections_total = 0


@dataclass(frozen=True, slots=True)
class ProxySample:
    """What the metrics page shows of one proxy at scrape time."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    connections_active: int
    connections_total: int
    received: tuple[int, int]
    sent: tuple[int, int]
    toxics: tuple[int, int]


_DIRECTIONS = ("upstream", "downstream")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _process_values() -> list[tuple[str, str, str, float]]:
    """A few process_* series from /proc (Linux), for -runtime-metrics."""
    values: list[tuple[str, str, str, float]] = []
    try:
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
        values.append(
            (
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                resident_pages * os.sysconf("SC_PAGE_SIZE"),
            )
        )
        values.append(
            (
                "process_open_fds",
                "gauge",
                "Number of open file descriptors.",
                len(os.listdir("/proc/self/fd")),
            )
        )
    except (OSError, ValueError, IndexError):
        pass
    times = os.times()
    values.append(
        ("process_cpu_seconds_total", "counter", "User and system CPU time spent.", times.user + times.system)
    )
    return values


def render(samples: Iterable[ProxySample], proxy: bool = True, runtime: bool = False) -> bytes:
    """The exposition text: per-proxy series with ``proxy``, process series with ``runtime``."""
    rows = list(samples)
    lines: list[str] = []
    if runtime:
        for name, kind, help_text, value in _process_values():
            lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"))
    if not proxy:
        return ("\n".join(lines) + "\n").encode()

    def family(name: str, kind: str, help_text: str, values: list[tuple[str, int]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value}" for labels, value in values)

    def per_direction(pick: str) -> list[tuple[str, int]]:
        out = []
        for row in rows:
            for index, direction in enumerate(_DIRECTIONS):
                labels = _labels(
                    direction=direction, proxy=row.name, listener=row.listen, upstream=row.upstream
                )
                out.append((labels, getattr(row, pick)[index]))
        return out

    family(
        "toxiproxy_proxy_received_bytes_total",
        "counter",
        "Bytes read from the source.",
        per_direction("received"),
    )
    family(
        "toxiproxy_proxy_sent_bytes_total",
        "counter",
        "Bytes written to the destination.",
        per_direction("sent"),
    )
    family(
        "faultproxy_proxy_connections_active",
        "gauge",
        "Client connections open now.",
        [(_labels(proxy=row.name), row.connections_active) for row in rows],
    )
    family(
        "faultproxy_proxy_connections_total",
        "counter",
        "Client connections accepted.",
        [(_labels(proxy=row.name), row.connections_total) for row in rows],
    )
    family(
        "faultproxy_proxy_toxics_active",
        "gauge",
        "Toxics configured on the proxy.",
        per_direction("toxics"),
    )
    family(
        "faultproxy_proxy_enabled",
        "gauge",
        "1 when the proxy listens.",
        [(_labels(proxy=row.name), int(row.enabled)) for row in rows],
    )
    return ("\n".join(lines) + "\n").encode()
