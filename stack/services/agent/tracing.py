"""Trace context (rule 7.3): X-Trace-ID / X-Span-ID / X-Parent-Span-ID.

An incoming request keeps the caller's trace id and the span the caller made for
this call; missing ids are generated.  Every outgoing call (HTTP or a RabbitMQ
message) gets a child span whose parent is the current span.
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
import secrets
from collections.abc import Mapping

TRACE_HEADER = "X-Trace-ID"
SPAN_HEADER = "X-Span-ID"
PARENT_HEADER = "X-Parent-Span-ID"
SERVICE_HEADER = "X-Service"
"""Names the service that answered, for the caller's log line of the call: the hop a trace id took."""

_VALID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def _clean(value: str | None) -> str:
    return value if value is not None and _VALID.match(value) else ""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    parent_span_id: str = ""

    @classmethod
    def new(cls) -> TraceContext:
        return cls(new_trace_id(), new_span_id())

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> TraceContext:
        """Adopt valid incoming ids (header names case-insensitive for real header maps)."""
        trace_id = _clean(headers.get(TRACE_HEADER))
        if not trace_id:
            return cls.new()
        span_id = _clean(headers.get(SPAN_HEADER)) or new_span_id()
        return cls(trace_id, span_id, _clean(headers.get(PARENT_HEADER)))

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, new_span_id(), self.span_id)

    def headers(self) -> dict[str, str]:
        out = {TRACE_HEADER: self.trace_id, SPAN_HEADER: self.span_id}
        if self.parent_span_id:
            out[PARENT_HEADER] = self.parent_span_id
        return out


CURRENT: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("agent_trace", default=None)


def current() -> TraceContext | None:
    return CURRENT.get()


def outgoing_headers(propagate: bool = True) -> dict[str, str]:
    """Headers for a call made now: a child of the current span, or a fresh trace (also when not
    ``propagate``: TRACE_PROPAGATION=false, the trace-id-dropped mutant)."""
    ctx = CURRENT.get()
    return (ctx.child() if ctx is not None and propagate else TraceContext.new()).headers()


def log_fields() -> dict[str, str]:
    """The current request's ids for every JSON log line (rule 7.3); none outside a request."""
    ctx = CURRENT.get()
    if ctx is None:
        return {}
    out = {"trace_id": ctx.trace_id, "span_id": ctx.span_id}
    if ctx.parent_span_id:
        out["parent_span_id"] = ctx.parent_span_id
    return out
