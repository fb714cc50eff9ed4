"""JSON-lines logging to stderr, like Toxiproxy's zerolog output.

Each event is one line: ``{"time": ..., "level": "info", "message": "Started proxy", "name": ...}``.
The logger is built at the entry point (cli.py or a test) and passed down; nothing reads the
environment here.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "off": 9}


class Logger:
    """Writes events at or above ``level`` as JSON lines to ``stream``."""

    def __init__(self, stream: TextIO | None = None, level: str = "info") -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
        self.stream = stream if stream is not None else sys.stderr
        self.threshold = LEVELS[level]

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.threshold

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
