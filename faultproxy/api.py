"""Toxiproxy's HTTP API: routes, middleware and handlers (api.go), byte for byte where clients can tell.

Middleware, in Toxiproxy's order: a request id on every response (``X-Toxiproxy-Request-Id``), 403
for browsers (User-Agent ``Mozilla/...``), a 25 s handler timeout (503). Routing follows gorilla/mux:
unclean paths are redirected (301), unknown paths are 404 ``404 page not found``, a known path with
another method is 405 with an empty body. Errors are ``{"error":..,"status":..}`` + newline as
text/plain (Go's ``http.Error``), except /populate which answers JSON with the proxies done so far.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import time
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from faultproxy import errors, jsonwire, metrics, proxy_json
from faultproxy.errors import ApiError, FaultProxyError
from faultproxy.http import Request, Response
from faultproxy.logs import Logger
from faultproxy.proxy import PopulateError, Proxy, ProxyCollection

HANDLER_TIMEOUT = 25.0
TIMEOUT_BODY = b"<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
PLAIN = "text/plain; charset=utf-8"
JSON = "application/json"

Vars = dict[str, str]
Endpoint = Callable[[Request, Vars], Awaitable[Response]]

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"


def request_id() -> str:
    """A 20-character base32hex id in the spirit of the xid that Toxiproxy's hlog generates."""
    raw = int(time.time()).to_bytes(4, "big") + os.urandom(8)
    number = int.from_bytes(raw, "big")
    return "".join(_ID_ALPHABET[(number >> (5 * index)) & 31] for index in reversed(range(20)))


def error_response(error: ApiError) -> Response:
    body = jsonwire.encode({"error": error.message, "status": error.status}) + b"\n"
    return Response(error.status, body, PLAIN, (("X-Content-Type-Options", "nosniff"),))


def plain_response(status: int, text: str) -> Response:
    return Response(status, (text + "\n").encode(), PLAIN, (("X-Content-Type-Options", "nosniff"),))


def json_response(value: object, status: int = 200) -> Response:
    return Response(status, jsonwire.encode(value), JSON)


def clean_path(path: str) -> str:
    """gorilla/mux cleanPath: path.Clean, keeping a trailing slash."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


class Api:
    """Answers API requests against a ProxyCollection."""

    def __init__(
        self,
        collection: ProxyCollection,
        logger: Logger,
        version: str,
        proxy_metrics: bool = False,
        runtime_metrics: bool = False,
        handler_timeout: float = HANDLER_TIMEOUT,
    ) -> None:
        self.collection = collection
        self.logger = logger
        self.version = version
        self.handler_timeout = handler_timeout
        self.proxy_metrics = proxy_metrics
        self.runtime_metrics = runtime_metrics
        self._inflight: set[asyncio.Task[Response]] = set()
        self.routes: list[tuple[tuple[str, ...], dict[str, Endpoint]]] = [
            (("reset",), {"POST": self.reset}),
            (("proxies",), {"GET": self.proxy_index, "POST": self.proxy_create}),
            (("populate",), {"POST": self.populate}),
            (("proxies", "{proxy}"), {"GET": self.proxy_show, "POST": self.proxy_update,
                                      "PATCH": self.proxy_update, "DELETE": self.proxy_delete}),
            (("proxies", "{proxy}", "toxics"), {"GET": self.toxic_index, "POST": self.toxic_create}),
            (("proxies", "{proxy}", "toxics", "{toxic}"), {"GET": self.toxic_show, "POST": self.toxic_update,
                                                         "PATCH": self.toxic_update, "DELETE": self.toxic_delete}),
            (("version",), {"GET": self.show_version}),
        ]  # fmt: skip
        if proxy_metrics or runtime_metrics:
            # Registered without methods in Toxiproxy, so any method is served.
            self.routes.append((("metrics",), {"*": self.show_metrics}))

    # -- middleware and routing ------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        started = time.monotonic()
        response = await self._dispatch(request)
        response = Response(
            response.status,
            response.body,
            response.content_type,
            (*response.headers, ("X-Toxiproxy-Request-Id", request_id())),
        )
        self.logger.debug(
            "",
            method=request.method,
            url=request.path,
            user_agent=request.header("User-Agent") or "",
            status=response.status,
            size=len(response.body),
            duration_ms=round((time.monotonic() - started) * 1000, 3),
        )
        return response

    def match(self, path: str, method: str) -> tuple[Endpoint | None, Vars, bool]:
        """The endpoint and path variables; the bool says whether the path matched another method."""
        segments = unquote(path)[1:].split("/")
        path_matched = False
        for pattern, methods in self.routes:
            if len(pattern) != len(segments):
                continue
            found: Vars = {}
            for want, got in zip(pattern, segments, strict=True):
                if want.startswith("{"):
                    if not got:
                        break
                    found[want[1:-1]] = got
                elif want != got:
                    break
            else:
                endpoint = methods.get(method) or methods.get("*")
                if endpoint is not None:
                    return endpoint, found, False
                path_matched = True
        return None, {}, path_matched

    async def _dispatch(self, request: Request) -> Response:
        if (request.header("User-Agent") or "").startswith("Mozilla/"):
            return plain_response(403, "User agent not allowed")
        if request.body_error is not None:
            return error_response(errors.bad_request_body(request.body_error))
        cleaned = clean_path(unquote(request.path))
        if cleaned != unquote(request.path):
            location = cleaned + (f"?{request.query}" if request.query else "")
            return Response(301, b"", None, (("Location", location),))
        endpoint, found, other_method = self.match(request.path, request.method)
        if endpoint is None:
            if other_method:
                return Response(405)
            return plain_response(404, "404 page not found")
        task = asyncio.ensure_future(self._guarded(endpoint, request, found))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        try:
            # Like Go's TimeoutHandler the handler keeps running; only its answer is replaced.
            return await asyncio.wait_for(asyncio.shield(task), self.handler_timeout)
        except TimeoutError:
            return Response(503, TIMEOUT_BODY, "text/html; charset=utf-8")

    async def _guarded(self, endpoint: Endpoint, request: Request, found: Vars) -> Response:
        try:
            return await endpoint(request, found)
        except FaultProxyError as exc:
            api_error = errors.as_api_error(exc)
            if api_error.status >= 500:
                self.logger.warn("Error did not include status code", error=api_error.message)
            return error_response(api_error)
        except Exception as exc:  # a bug must cost one request, never the server
            self.logger.error("Handler failed", error=f"{type(exc).__name__}: {exc}")
            return error_response(ApiError(f"internal error: {exc}", 500))

    # -- proxies ---------------------------------------------------------------------------
    def _proxy(self, found: Vars) -> Proxy:
        return self.collection.get(found["proxy"])

    async def proxy_index(self, request: Request, found: Vars) -> Response:
        proxies = self.collection.proxies
        return json_response({name: proxies[name].to_json() for name in sorted(proxies)})

    async def proxy_create(self, request: Request, found: Vars) -> Response:
        spec = proxy_json.parse_create(request.body)
        async with self.collection.lock:
            proxy = await self.collection.add(spec)
        self.logger.info("Created proxy", name=proxy.name, listen=proxy.listen, upstream=proxy.upstream)
        return json_response(proxy.to_json(), 201)

    async def populate(self, request: Request, found: Vars) -> Response:
        try:
            specs = proxy_json.parse_populate(request.body)
        except ApiError as exc:
            return self._populate_response(exc, [])
        async with self.collection.lock:
            try:
                done = await self.collection.populate(specs)
            except PopulateError as exc:
                self.logger.warn("Populate errors", error=exc.error.message)
                return self._populate_response(exc.error, exc.done)
        self.logger.info("Populated proxies", proxies=len(done))
        return self._populate_response(None, done)

    @staticmethod
    def _populate_response(error: ApiError | None, done: list[Proxy]) -> Response:
        body: dict[str, object] = {}
        if error is not None:
            body = {"error": error.message, "status": error.status}
        # Go marshals an empty (nil) slice as null.
        body["proxies"] = [proxy.to_json() for proxy in done] or None
        return json_response(body, error.status if error is not None else 201)

    async def proxy_show(self, request: Request, found: Vars) -> Response:
        return json_response(self._proxy(found).to_json())

    async def proxy_update(self, request: Request, found: Vars) -> Response:
        async with self.collection.lock:
            proxy = self._proxy(found)
            spec = proxy_json.parse_update(request.body, proxy)
            await proxy.update(spec.listen, spec.upstream, spec.enabled)
        self.logger.info("Updated proxy", name=proxy.name, listen=proxy.listen, enabled=proxy.enabled)
        return json_response(proxy.to_json())

    async def proxy_delete(self, request: Request, found: Vars) -> Response:
        async with self.collection.lock:
            self.collection.remove(found["proxy"])
        self.logger.info("Deleted proxy", name=found["proxy"])
        return Response(204)

    async def reset(self, request: Request, found: Vars) -> Response:
        async with self.collection.lock:
            await self.collection.reset()
        self.logger.info("Reset proxies and toxics")
        return Response(204)

    # -- toxics ----------------------------------------------------------------------------
    async def toxic_index(self, request: Request, found: Vars) -> Response:
        return json_response([toxic.to_json() for toxic in self._proxy(found).toxics.all()])

    async def toxic_create(self, request: Request, found: Vars) -> Response:
        proxy = self._proxy(found)
        toxic = proxy.toxics.add_json(request.body)
        self.logger.info(
            "Added toxic", proxy=proxy.name, toxic=toxic.name, type=toxic.type, stream=toxic.stream
        )
        return json_response(toxic.to_json())

    async def toxic_show(self, request: Request, found: Vars) -> Response:
        return json_response(self._proxy(found).toxics.get(found["toxic"]).to_json())

    async def toxic_update(self, request: Request, found: Vars) -> Response:
        proxy = self._proxy(found)
        toxic = proxy.toxics.update_json(found["toxic"], request.body)
        self.logger.info("Updated toxic", proxy=proxy.name, toxic=toxic.name)
        return json_response(toxic.to_json())

    async def toxic_delete(self, request: Request, found: Vars) -> Response:
        proxy = self._proxy(found)
        proxy.toxics.remove(found["toxic"])
        self.logger.info("Removed toxic", proxy=proxy.name, toxic=found["toxic"])
        return Response(204)

    # -- misc ------------------------------------------------------------------------------
    async def show_version(self, request: Request, found: Vars) -> Response:
        body = f'{{"version": "{self.version}"}}\n'.encode()
        return Response(200, body, "application/json;charset=utf-8")

    async def show_metrics(self, request: Request, found: Vars) -> Response:
        samples = []
        if self.proxy_metrics:
            samples = [self.collection.proxies[name].sample() for name in sorted(self.collection.proxies)]
        body = metrics.render(samples, proxy=self.proxy_metrics, runtime=self.runtime_metrics)
        return Response(200, body, metrics.CONTENT_TYPE)
