"""TCP addresses the way Go's net package parses, resolves, prints and binds them.

Toxiproxy hands ``listen`` strings to ``net.Listen("tcp", addr)`` and compares them after
``net.ResolveTCPAddr``; the API shows the results and Go's error texts, so this module copies them:
``localhost:0`` binds 127.0.0.1 on an ephemeral port, an empty host or a wildcard IP binds every
interface (shown as ``[::]:PORT`` when IPv6 is available), errors read like
``listen tcp 127.0.0.1:3310: bind: address already in use``.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
from dataclasses import dataclass

from faultproxy.errors import AddressError

LISTEN_BACKLOG = 4096

# Go's built-in services table (net/lookup.go), used when /etc/services lacks a name (slim images).
_GO_SERVICES = {
    "ftp": 21, "ftps": 990, "gopher": 70, "http": 80, "https": 443, "imap2": 143, "imap3": 220,
    "imaps": 993, "pop3": 110, "pop3s": 995, "smtp": 25, "submissions": 465, "ssh": 22, "telnet": 23,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TcpAddr:
    """A resolved address; ``host`` is an IP literal or "" for every interface."""

    host: str
    port: int

    def __str__(self) -> str:
        return join_host_port(self.host, self.port)


def join_host_port(host: str, port: int) -> str:
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def split_host_port(addr: str) -> tuple[str, str]:
    """Go's net.SplitHostPort, with its error texts."""

    def fail(why: str) -> AddressError:
        return AddressError(f"address {addr}: {why}")

    colon = addr.rfind(":")
    if colon < 0:
        raise fail("missing port in address")
    if addr.startswith("["):
        close = addr.find("]")
        if close < 0:
            raise fail("missing ']' in address")
        if close + 1 == len(addr):
            raise fail("missing port in address")
        if close + 1 != colon:
            raise fail("too many colons in address" if addr[close + 1] == ":" else "missing port in address")
        host = addr[1:close]
        if "[" in addr[1:] or "]" in addr[close + 1 :]:
            raise fail("unexpected '[' in address")
    else:
        host = addr[:colon]
        if ":" in host:
            raise fail("too many colons in address")
        if "[" in addr or "]" in addr:
            raise fail("unexpected '[' in address")
    return host, addr[colon + 1 :]


def port_number(port: str, addr: str) -> int:
    if port == "":
        return 0
    if port.isdigit():
        number = int(port)
        if number > 65535:
            raise AddressError(f"address {addr}: invalid port")
        return number
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        if port.lower() in _GO_SERVICES:
            return _GO_SERVICES[port.lower()]
        raise AddressError(f"lookup tcp/{port}: unknown port") from None


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


async def resolve(addr: str) -> TcpAddr:
    """Go's net.ResolveTCPAddr("tcp", addr): names become their first IPv4 (else IPv6) address."""
    if addr == "":
        return TcpAddr("", 0)
    host, port_text = split_host_port(addr)
    port = port_number(port_text, addr)
    if host == "":
        return TcpAddr("", port)
    literal = _ip_literal(host)
    if literal is not None:
        return TcpAddr(literal, port)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressError(f"lookup {host}: no such host") from None
    ips = [str(info[4][0]) for info in infos]
    v4 = [ip for ip in ips if ":" not in ip]
    if not ips:
        raise AddressError(f"lookup {host}: no such host")
    return TcpAddr((v4 or ips)[0], port)


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def bind(addr: TcpAddr) -> tuple[socket.socket, str]:
    """Bind (not yet listen) a TCP socket; returns it and the bound address as Go prints it."""
    attempts: list[tuple[socket.AddressFamily, str]]
    if _is_wildcard(addr.host):
        # Go listens on a dual-stack [::] socket for a wildcard host when the kernel has IPv6.
        attempts = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")]
    elif ":" in addr.host:
        attempts = [(socket.AF_INET6, addr.host)]
    else:
        attempts = [(socket.AF_INET, addr.host)]
    error: OSError | None = None
    for family, host in attempts:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((host, addr.port))
        except OSError as exc:
            sock.close()
            error = exc
            if exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL) and family == socket.AF_INET6:
                continue
            break
        sock.setblocking(False)
        bound_host, bound_port = sock.getsockname()[:2]
        return sock, join_host_port(bound_host, bound_port)
    assert error is not None
    reason = os.strerror(error.errno) if error.errno else str(error)
    raise AddressError(f"listen tcp {addr}: bind: {reason[:1].lower()}{reason[1:]}")


async def open_listener(listen: str) -> tuple[socket.socket, str]:
    """net.Listen("tcp", listen): the bound socket and its address string, or Go's error text."""
    try:
        addr = await resolve(listen)
    except AddressError as exc:
        raise AddressError(f"listen tcp: {exc}") from None
    return bind(addr)
