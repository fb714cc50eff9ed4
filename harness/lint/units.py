"""Parsers for the value syntaxes Compose accepts: sizes, durations, CPU counts, cpusets, ports.

Each raises ``ValueError`` with a short cause; the model turns it into an ``InputError`` at file:line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_bytes(value: object) -> int:
    """``512M``, ``2g``, ``256mb``, ``2Gi``, ``1.5G`` or a number of bytes (binary units, as Docker)."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r}")
    number, unit, _ = match.groups()
    return int(float(number) * 1024 ** _POWERS[unit.lower()])


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Go-style durations (``1m30s``, ``500ms``); a bare number counts as seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(n) * _SECONDS[u] for n, u in parts)


def parse_cpus(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a CPU count: {value!r}")
    try:
        cpus = float(str(value).strip())
    except ValueError:
        raise ValueError(f"not a CPU count: {value!r}") from None
    if cpus < 0 or cpus != cpus:
        raise ValueError(f"not a CPU count: {value!r}")
    return cpus


def parse_cpuset(value: object) -> frozenset[int]:
    """``0-3``, ``0,2``, ``0-1,4``: the set of core numbers."""
    cores: set[int] = set()
    for part in str(value).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"not a cpuset: {value!r}")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low or high - low > 4096:
            raise ValueError(f"not a cpuset: {value!r}")
        cores.update(range(low, high + 1))
    return frozenset(cores)


def format_cores(cores: frozenset[int] | range) -> str:
    ordered = sorted(cores)
    if not ordered:
        return "none"
    runs: list[str] = []
    start = prev = ordered[0]
    for core in [*ordered[1:], None]:
        if core is not None and core == prev + 1:
            prev = core
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if core is not None:
            start = prev = core
    return ",".join(runs)


def format_bytes(size: int) -> str:
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024**power:
            return f"{size / 1024**power:.4g} {unit}"
    return f"{size} B"


@dataclass(frozen=True, slots=True)
class PortRange:
    low: int
    high: int

    def ports(self) -> range:
        return range(self.low, self.high + 1)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def parse_port_range(value: object) -> PortRange:
    text = str(value).strip()
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
    if not match:
        raise ValueError(f"not a port or port range: {value!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"port out of range: {value!r}")
    return PortRange(low, high)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One entry of a service's ``ports``: the host side may be absent (Docker picks one)."""

    host_ip: str | None
    published: PortRange | None
    target: PortRange
    protocol: str


def parse_port_short(value: object) -> PortSpec:
    """``[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTOCOL]``, IPv6 hosts in brackets."""
    text = str(value).strip()
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
    host_ip: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ValueError(f"not a port mapping: {value!r}")
        host_ip, text = text[1:end], text[end + 2 :]
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"not a port mapping: {value!r}")
        host, container = parts
    else:
        parts = text.split(":")
        if len(parts) == 1:
            host, container = "", parts[0]
        elif len(parts) == 2:
            host, container = parts
        else:
            host_ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    published = parse_port_range(host) if host else None
    return PortSpec(host_ip or None, published, parse_port_range(container), protocol or "tcp")
