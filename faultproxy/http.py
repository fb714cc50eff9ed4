"""A small HTTP/1.1 server on asyncio streams for the API: keep-alive, bounded and timed reads.

It does what Go's net/http server does for Toxiproxy's API and nothing more: requests with
Content-Length or chunked bodies (``Expect: 100-continue`` answered), keep-alive unless
``Connection: close`` (or HTTP/1.0 without keep-alive), a 15 s read timeout, a 60 s idle timeout,
header blocks over 1 MiB answered 431, malformed requests answered 400 and closed. A body larger than
``Limits.max_body`` is not read: the handler gets the request with ``body_error`` set, and the
connection is closed after the answer.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from faultproxy import netaddr
from faultproxy.errors import AddressError
from faultproxy.logs import Logger

BODY_TOO_LARGE = "http: request body too large"


@dataclass(frozen=True, slots=True)
class Limits:
    max_header: int = 1 << 20
    max_body: int = 1 << 20
    read_timeout: float = 15.0
    idle_timeout: float = 60.0
    write_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # still percent-encoded, without the query
    query: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_error: str | None = None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """The request cannot be parsed; the connection is answered 400 and closed."""


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "status code " + str(status)


def render(response: Response, close: bool, keep_alive_header: bool, head: bool = False) -> bytes:
    """The response bytes; a HEAD answer keeps its Content-Length but carries no body."""
    lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
    if response.content_type is not None:
        lines.append(f"Content-Type: {response.content_type}")
    lines.extend(f"{key}: {value}" for key, value in response.headers)
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    if response.status != 204 and response.status >= 200:
        lines.append(f"Content-Length: {len(response.body)}")
    if close:
        lines.append("Connection: close")
    elif keep_alive_header:
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else response.body)


def _plain(status: int) -> bytes:
    text = f"{status} {_reason(status)}"
    return render(Response(status, text.encode(), "text/plain; charset=utf-8"), True, False)


def parse_head(head: bytes) -> tuple[str, str, str, str, tuple[tuple[str, str], ...]]:
    """Request line and headers; raises BadRequest."""
    text = head.decode("latin-1").lstrip("\r\n")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise BadRequest("malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest("unsupported protocol version")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise BadRequest("malformed header line")
        headers.append((name, value.strip(" \t")))
    if target.startswith("/"):
        path, _, query = target.partition("?")
    elif target.startswith(("http://", "https://")):
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        path, _, query = (rest[slash:] if slash >= 0 else "/").partition("?")
    else:
        raise BadRequest("malformed request target")
    return method, path, query, version, tuple(headers)


class HttpServer:
    """Serves ``handler`` on one or more listening sockets until ``close()``."""

    def __init__(self, handler: Handler, logger: Logger, limits: Limits | None = None) -> None:
        self.handler = handler
        self.logger = logger
        self.limits = limits or Limits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, listen: str) -> str:
        """Listen as Go's net.Listen would (``localhost`` is 127.0.0.1 only, a wildcard is
        dual-stack); returns the bound address. Raises AddressError with Go's text."""
        sock, bound = await netaddr.open_listener(listen)
        try:
            self._server = await asyncio.start_server(self._serve, sock=sock, limit=self.limits.max_header)
        except OSError as exc:
            sock.close()
            raise AddressError(f"listen tcp {bound}: listen: {exc.strerror or exc}") from None
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._conversation(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.transport.abort()

    async def _conversation(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        limits = self.limits
        first = True
        while True:
            wait = limits.read_timeout if first else limits.idle_timeout
            first = False
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), wait)
            except asyncio.LimitOverrunError:
                await self._send(writer, _plain(431))
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    await self._send(writer, _plain(400))
                return
            try:
                method, path, query, version, headers = parse_head(head)
            except BadRequest:
                await self._send(writer, _plain(400))
                return
            request = Request(method, path, query, version, headers, b"")
            try:
                body, body_error = await asyncio.wait_for(
                    self._read_body(request, reader, writer), limits.read_timeout
                )
            except BadRequest:
                await self._send(writer, _plain(400))
                return
            request = Request(method, path, query, version, headers, body, body_error)
            response = await self.handler(request)
            connection = (request.header("Connection") or "").lower()
            if version == "HTTP/1.0":
                close = "keep-alive" not in connection or body_error is not None
            else:
                close = "close" in connection or body_error is not None
            keep_alive_header = version == "HTTP/1.0" and not close
            await self._send(writer, render(response, close, keep_alive_header, head=method == "HEAD"))
            if close:
                return

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), self.limits.write_timeout)

    async def _read_body(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[bytes, str | None]:
        limit = self.limits.max_body
        chunked = "chunked" in (request.header("Transfer-Encoding") or "").lower()
        length_text = request.header("Content-Length")
        if not chunked and length_text is None:
            return b"", None
        length = 0
        if not chunked:
            assert length_text is not None
            if not length_text.isdigit():
                raise BadRequest("bad Content-Length")
            length = int(length_text)
            if length > limit:
                return b"", BODY_TOO_LARGE
            if length == 0:
                return b"", None
        if (request.header("Expect") or "").lower() == "100-continue":
            await self._send(writer, b"HTTP/1.1 100 Continue\r\n\r\n")
        if not chunked:
            return await reader.readexactly(length), None
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest("bad chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(parts), None
            total += size
            if total > limit:
                return b"", BODY_TOO_LARGE
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest("bad chunk end")
