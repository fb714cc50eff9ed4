"""JSON-lines logging to stderr, like Toxiproxy's zerolog output.

Each event is one line: ``{"time": ..., "level": "info", "message": "Started proxy", "name": ...}``.
The logger is built at the entry point (cli.py or a test) and passed down; nothing reads the
environment here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "off": 9}


class Logger:
    """Writes events at or above ``level`` as JSON lines to ``stream``."""

    def __init__(self, stream: TextIO | None = None, level: str = "info") -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
        self.stream = stream if stream is not None else sys.stderr
        self.threshold = LEVELS[level]

    def log(self, level: str, message: str, **fields: object) -> None:
        if LEVELS[level] < self.threshold:
            return
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        event = {"time": stamp, "level": level, "message": message, **fields}
        try:
            self.stream.write(json.dumps(event, default=str) + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not take the proxy down

    def debug(self, message: str, **fields: object) -> None:
        self.log("debug", message, **fields)

    def info(self, message: str, **fields: object) -> None:
        self.log("info", message, **fields)

    def warn(self, message: str, **fields: object) -> None:
        self.log("warn", message, **fields)

    def error(self, message: str, **fields: object) -> None:
        self.log("error", message, **fields)


_STDLIB_LEVELS = (
    (logging.ERROR, "error"),
    (logging.WARNING, "warn"),
    (logging.INFO, "info"),
    (logging.DEBUG, "debug"),
)


class JsonHandler(logging.Handler):
    """Sends stdlib logging records (asyncio's own warnings) through ``Logger`` as JSON lines."""

    def __init__(self, logger: Logger) -> None:
        super().__init__()
        self.target = logger

    def emit(self, record: logging.LogRecord) -> None:
        level = next((name for number, name in _STDLIB_LEVELS if record.levelno >= number), "debug")
        fields: dict[str, object] = {"logger": record.name}
        if record.exc_info and record.exc_info[1] is not None:
            fields["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            fields["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.target.log(level, record.getMessage(), **fields)


def route_stdlib_logging(logger: Logger) -> None:
    """Make asyncio's log records JSON lines too (called once, at the entry point)."""
    stdlib = logging.getLogger("asyncio")
    stdlib.handlers[:] = [JsonHandler(logger)]
    stdlib.propagate = False


def loop_exception_handler(logger: Logger) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event-loop exception handler that logs one JSON line (with the traceback as a field)."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        fields: dict[str, object] = {}
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            fields["error"] = f"{type(exc).__name__}: {exc}"
            fields["traceback"] = "".join(traceback.format_exception(exc)).rstrip()
        logger.error(str(context.get("message", "unhandled error in event loop")), **fields)

    return handle
