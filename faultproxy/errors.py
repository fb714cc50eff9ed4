"""The fault proxy's exception tree.

    FaultProxyError        anything the server reports instead of a traceback
    ├── ApiError           an error the HTTP API answers with {"error": msg, "status": code}
    ├── AddressError       a listen/upstream address that cannot be parsed, resolved or bound
    │                      (Go's net error text; the API answers it with status 500, as Toxiproxy)
    └── ConfigError        a bad command-line flag or -config file: one line, exit 2

The messages and status codes of ApiError are Toxiproxy's (api.go), built by the functions below so
that every handler spells them the same way.
"""

from __future__ import annotations


class FaultProxyError(Exception):
    """Base of every error the fault proxy reports instead of a traceback."""


class ApiError(FaultProxyError):
    """An API error with Toxiproxy's message and HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AddressError(FaultProxyError):
    """A network address error; ``str()`` is Go's error text, e.g. ``listen tcp ...: bind: ...``."""


class ConfigError(FaultProxyError):
    """A bad flag or -config file. ``str()`` is the one line the CLI prints."""


def bad_request_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", 400)


def missing_field(field: str) -> ApiError:
    return ApiError(f"missing required field: {field}", 400)


def proxy_not_found() -> ApiError:
    return ApiError("proxy not found", 404)


def proxy_already_exists() -> ApiError:
    return ApiError("proxy already exists", 409)


def invalid_stream() -> ApiError:
    return ApiError("stream was invalid, can be either upstream or downstream", 400)


def invalid_toxic_type() -> ApiError:
    return ApiError("invalid toxic type", 400)


def toxic_already_exists() -> ApiError:
    return ApiError("toxic already exists", 409)


def toxic_not_found() -> ApiError:
    return ApiError("toxic not found", 404)


def as_api_error(exc: FaultProxyError) -> ApiError:
    """Errors without a status code are answered with 500 and their text, as Toxiproxy's apiError."""
    if isinstance(exc, ApiError):
        return exc
    return ApiError(str(exc), 500)
