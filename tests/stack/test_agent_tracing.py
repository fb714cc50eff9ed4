import json
import logging

import _paths  # noqa: F401  (puts stack/services on sys.path)

from agent import tracing
from refstack_common.jsonlog import JsonFormatter, fields


def test_incoming_ids_are_adopted() -> None:
    ctx = tracing.TraceContext.from_headers(
        {"X-Trace-ID": "t" * 32, "X-Span-ID": "s1", "X-Parent-Span-ID": "p0"}
    )
    assert (ctx.trace_id, ctx.span_id, ctx.parent_span_id) == ("t" * 32, "s1", "p0")


def test_missing_or_invalid_ids_are_generated() -> None:
    fresh = tracing.TraceContext.from_headers({})
    assert len(fresh.trace_id) == 32 and len(fresh.span_id) == 16 and fresh.parent_span_id == ""
    hostile = tracing.TraceContext.from_headers({"X-Trace-ID": "bad id\r\nInjected: 1"})
    assert "\n" not in hostile.trace_id and len(hostile.trace_id) == 32


def test_child_span_keeps_trace_and_points_at_parent() -> None:
    parent = tracing.TraceContext("trace", "span-a")
    child = parent.child()
    assert child.trace_id == "trace"
    assert child.parent_span_id == "span-a"
    assert child.span_id != "span-a"
    assert child.headers() == {
        "X-Trace-ID": "trace",
        "X-Span-ID": child.span_id,
        "X-Parent-Span-ID": "span-a",
    }


def test_outgoing_headers_follow_the_current_context() -> None:
    token = tracing.CURRENT.set(tracing.TraceContext("trace-1", "span-1"))
    try:
        headers = tracing.outgoing_headers()
    finally:
        tracing.CURRENT.reset(token)
    assert headers["X-Trace-ID"] == "trace-1"
    assert headers["X-Parent-Span-ID"] == "span-1"
    assert tracing.outgoing_headers()["X-Trace-ID"] != "trace-1"  # outside a request: a fresh trace


def test_outgoing_headers_without_propagation_start_a_fresh_trace() -> None:
    token = tracing.CURRENT.set(tracing.TraceContext("trace-1", "span-1"))
    try:
        headers = tracing.outgoing_headers(propagate=False)
    finally:
        tracing.CURRENT.reset(token)
    assert headers["X-Trace-ID"] != "trace-1" and "X-Parent-Span-ID" not in headers


def test_json_log_line_has_the_required_fields_and_trace_ids() -> None:
    record = logging.LogRecord("agent", logging.INFO, __file__, 1, "Task %s", ("completed",), None)
    record.__dict__.update(fields(task_id="123", duration_ms=15))
    token = tracing.CURRENT.set(tracing.TraceContext("trace-9", "span-9", "span-8"))
    try:
        line = JsonFormatter("agent-orchestrator", tracing.log_fields).format(record)
    finally:
        tracing.CURRENT.reset(token)
    out = json.loads(line)
    assert out["message"] == "Task completed"
    assert out["level"] == "INFO"
    assert out["service"] == "agent-orchestrator"
    assert out["timestamp"].endswith("Z")
    assert (out["trace_id"], out["span_id"], out["parent_span_id"]) == ("trace-9", "span-9", "span-8")
    assert (out["task_id"], out["duration_ms"]) == ("123", 15)


def test_log_fields_are_empty_outside_a_request() -> None:
    assert tracing.log_fields() == {}
    token = tracing.CURRENT.set(tracing.TraceContext("trace-1", "span-1"))
    try:
        assert tracing.log_fields() == {"trace_id": "trace-1", "span_id": "span-1"}
    finally:
        tracing.CURRENT.reset(token)
