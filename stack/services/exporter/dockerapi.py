"""A small Docker Engine API client over the unix socket (or tcp), standard library only.

Each call opens its own connection: http.client connections are not thread-safe and a unix-socket
connect costs microseconds.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

JsonObject = dict[str, Any]


class DockerError(Exception):
    """The engine could not be reached or answered with an error."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class DockerApi(Protocol):
    """What the collector needs from the engine; a fake implements it in the tests."""

    def containers(self, label_filters: tuple[str, ...]) -> list[JsonObject]: ...

    def inspect(self, container_id: str) -> JsonObject: ...

    def stats(self, container_id: str) -> JsonObject: ...

    def oom_events(self, since: str) -> Iterator[JsonObject]: ...

    def info(self) -> JsonObject: ...


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _filters(filters: Mapping[str, list[str]]) -> str:
    return json.dumps({key: values for key, values in filters.items() if values})


class DockerClient:
    def __init__(self, docker_host: str, api_version: str = "1.41", timeout_s: float = 5.0) -> None:
        self.docker_host = docker_host
        self.timeout_s = timeout_s
        self._prefix = f"/v{api_version}"
        parts = urlsplit(docker_host)
        if parts.scheme == "unix":
            self._unix_path: str | None = parts.path
            self._netloc = ""
        elif parts.scheme in ("tcp", "http"):
            self._unix_path = None
            self._netloc = parts.netloc
        else:
            raise ValueError(f"DOCKER_HOST={docker_host!r}: only unix:// and tcp:// are supported")

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._unix_path is not None:
            return _UnixConnection(self._unix_path, timeout)
        return http.client.HTTPConnection(self._netloc, timeout=timeout)

    def _open(self, path: str, params: Mapping[str, str], timeout: float | None) -> http.client.HTTPResponse:
        url = self._prefix + path + ("?" + urlencode(params) if params else "")
        conn = self._connect(timeout)
        try:
            conn.request("GET", url)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise DockerError(f"docker {path}: {exc}") from exc
        if response.status >= 400:
            body = response.read(2000).decode(errors="replace")
            conn.close()
            try:
                message = json.loads(body).get("message", body)
            except (ValueError, AttributeError):
                message = body
            raise DockerError(f"docker {path}: HTTP {response.status}: {message}", response.status)
        return response

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._open(path, params or {}, self.timeout_s)
        try:
            return json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise DockerError(f"docker {path}: {exc}") from exc
        finally:
            response.close()

    def containers(self, label_filters: tuple[str, ...]) -> list[JsonObject]:
        params = {"all": "1"}
        if label_filters:
            params["filters"] = _filters({"label": list(label_filters)})
        result = self._get("/containers/json", params)
        return list(result) if isinstance(result, list) else []

    def inspect(self, container_id: str) -> JsonObject:
        return dict(self._get(f"/containers/{quote(container_id)}/json"))

    def stats(self, container_id: str) -> JsonObject:
        # one-shot: without it a non-streamed stats call waits for two daemon samples (~2 s) to fill
        # precpu_stats. Even one-shot waits for dockerd's next 1 s sample, so calls run concurrently.
        params = {"stream": "false", "one-shot": "true"}
        return dict(self._get(f"/containers/{quote(container_id)}/stats", params))

    def info(self) -> JsonObject:
        return dict(self._get("/info"))

    def oom_events(self, since: str) -> Iterator[JsonObject]:
        """Stream OOM events from ``since`` (unix seconds, "s.nnnnnnnnn") until the connection ends."""
        params = {"since": since, "filters": _filters({"type": ["container"], "event": ["oom"]})}
        response = self._open("/events", params, None)  # no timeout: the stream is quiet for hours
        try:
            while True:
                try:
                    line = response.readline()
                except (OSError, http.client.HTTPException) as exc:
                    raise DockerError(f"docker /events: {exc}") from exc
                if not line:
                    return
                line = line.strip()
                if line:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(event, dict):
                        yield event
        finally:
            response.close()
