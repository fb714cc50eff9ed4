"""JSON logs on stdout (rule 7.2): one object per line with timestamp, level,
service, message, the trace ids of the current request and any extra fields."""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any

from . import tracing

FIELDS_ATTR = "fields"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        out: dict[str, Any] = {
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "service": self._service,
            "message": record.getMessage(),
            "logger": record.name,
        }
        ctx = tracing.current()
        if ctx is not None:
            out["trace_id"] = ctx.trace_id
            out["span_id"] = ctx.span_id
            if ctx.parent_span_id:
                out["parent_span_id"] = ctx.parent_span_id
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup(service: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become JSON lines too, not raw stderr text
    # aiohttp's own access log would be a second, non-JSON line per request; ours replaces it
    logging.getLogger("aiohttp.access").disabled = True


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """`log.info("msg", extra=fields(task_id=...))`"""
    return {FIELDS_ATTR: values}
