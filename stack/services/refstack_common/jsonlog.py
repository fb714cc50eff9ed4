"""JSON logs on stdout (rule 7.2): one object per line with timestamp, level, service, message, logger,
the service's context fields (the agents' trace ids), the record's extra fields and any exception."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol, TypeVar

FIELDS_ATTR = "fields"

# fields of the current moment that every line carries, e.g. the trace ids of the request being served
Context = Callable[[], Mapping[str, object]]


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, context: Context | None = None) -> None:
        super().__init__()
        self._service = service
        self._context = context

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "service": self._service,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if self._context is not None:
            entry.update(self._context())
        extra = getattr(record, FIELDS_ATTR, None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(service: str, level: int | str, context: Context | None = None, plain: bool = False) -> None:
    """JSON lines on stdout; ``plain``: text lines instead, rule 7.2 broken on purpose (a mutant's knob)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT) if plain else JsonFormatter(service, context))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's own access log would be a second, non-JSON line per request
    logging.getLogger("aiohttp.access").disabled = True


def fields(**values: object) -> dict[str, dict[str, object]]:
    """`log.info("msg", extra=fields(task_id=...))`: extra keys of the line (never the standard ones)."""
    return {FIELDS_ATTR: values}


def bad_config(service: str, logger: str, error: Exception) -> None:
    """The one line an entry point logs before exiting 2 on an unusable environment variable."""
    setup(service, logging.INFO)
    logging.getLogger(logger).error(f"bad configuration: {error}")


class LoggedConfig(Protocol):
    @property
    def service(self) -> str: ...

    @property
    def log_level(self) -> str: ...


C = TypeVar("C", bound=LoggedConfig)


def configure(
    load: Callable[[Mapping[str, str]], C], env: Mapping[str, str], *, logger: str, default_service: str
) -> C | None:
    """The config read from `env`, with JSON logging set up at its service name and level; None once the
    bad-configuration line is logged under `default_service` (the caller exits 2)."""
    try:
        config = load(env)
    except ValueError as exc:
        bad_config(default_service, logger, exc)
        return None
    setup(config.service, config.log_level)
    return config
