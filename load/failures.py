"""Why a request failed, as rule 6.1 asks it: did the service ever take it?

Every failed request is one of three kinds:

- ``refused``: the service never took it. The connection was never opened (connection refused, a name
  that does not resolve, the connect timeout: anything raised while geventhttpclient opens the
  connection), or the answer says it was not taken: 503 (HAProxy has no server up, or the agent is
  shutting down) and 429 (rate limited).
- ``lost``: the connection was open and the request sent, and no proper answer came: the connection reset
  or closed before or during the response, an incomplete or unparsable response, the read timeout; or the
  gateway answered 502 (its upstream closed or reset the connection after taking the request) or 504 (its
  upstream took it and did not answer in time); or any other 5xx (the service took it and failed it).
  A failure of a shape not recognised here counts as lost: a loss check must not pass on what it cannot
  tell.
- ``rejected``: the service read the request and answered a 4xx of its own other than 429 (a bad
  request, not found): neither refused while down nor lost.

This is the shape of failures of Locust's FastHttpUser (geventhttpclient), as measured against loopback
servers (tests/unit/load/test_load_failure_kinds.py): a refused connection is ``ConnectionRefusedError``,
an unknown name ``socket.gaierror``; both timeouts are ``TimeoutError`` wrapped in geventhttpclient's
``RetriesExceeded`` (``.original``), told apart by where they were raised (the connect timeout inside
``ConnectionPool.get_socket``); a connection closed or reset after sending is ``HTTPConnectionClosed`` and
a cut response ``HTTPParseError`` (both ``http.client.HTTPException``); a status is ``response.status_code``.

One blind spot, geventhttpclient's: when a connection closes before any byte of the answer, it sends the
request again on a new connection (it cannot tell a keep-alive connection the server had closed from a
dropped request); if that new connection is refused, the request counts as refused. Behind a gateway, as
on the reference stack, the client's connections are the gateway's and this does not arise.

Free of Locust and gevent (names and attributes only), so pushmetrics.py and the unit tests import it.
"""

from __future__ import annotations

import socket
import traceback
from typing import Literal

FailureKind = Literal["refused", "lost", "rejected"]
FAILURE_KINDS: tuple[FailureKind, ...] = ("refused", "lost", "rejected")
REFUSED_STATUSES = frozenset({429, 503})
"""Answers that say the request was not taken."""
CONNECTING = "get_socket"
"""geventhttpclient's ConnectionPool method that opens a connection: an error raised inside it came
before the request was sent."""


def failure_kind(exception: BaseException, response: object = None) -> FailureKind:
    """The kind of a failed request, from the exception and response of Locust's ``request`` event."""
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return _status_kind(status)
    cause = _unwrapped(exception)
    if isinstance(cause, ConnectionRefusedError | socket.gaierror) or _raised_while_connecting(cause):
        return "refused"
    return "lost"  # reset, closed, cut short or timed out once sent; or a shape not known here


def _status_kind(status: int) -> FailureKind:
    if status in REFUSED_STATUSES:
        return "refused"
    return "lost" if status >= 500 else "rejected"


def _unwrapped(exception: BaseException) -> BaseException:
    """The error under geventhttpclient's ``RetriesExceeded`` (its ``original``), which wraps timeouts."""
    seen = {id(exception)}
    while isinstance(original := getattr(exception, "original", None), BaseException):
        if id(original) in seen:
            break
        seen.add(id(original))
        exception = original
    return exception


def _raised_while_connecting(exception: BaseException) -> bool:
    return any(frame.f_code.co_name == CONNECTING for frame, _ in traceback.walk_tb(exception.__traceback__))
