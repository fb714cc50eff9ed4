"""Prometheus' HTTP API on loopback, answering from a ``FakeMetricsSource``: the three endpoints
``PrometheusSource`` reads (``/api/v1/targets``, ``/api/v1/query``, ``/api/v1/query_range``), for tests
that drive the real adapter or the CLI against a Prometheus without one running."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlparse

from harness.metrics.fake import FakeMetricsSource
from harness.windows import Window

Mode = Literal["ok", "500", "garbage"]


def _number(value: float) -> str:
    return "NaN" if value != value else repr(value)


class FakePrometheusApi(BaseHTTPRequestHandler):
    """One served API; ``serve_prometheus`` makes a subclass per server. ``mode`` "500" answers every
    request with an HTTP 500, "garbage" with a body that is not JSON."""

    fake: FakeMetricsSource
    targets: tuple[tuple[str, str], ...]  # (job, scrapeInterval) of each active target
    mode: Mode = "ok"
    url: str

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.mode == "500":
            return self._send(500, {"status": "error", "error": "boom"})
        if self.mode == "garbage":
            return self._send(200, "<html>not prometheus</html>")
        if url.path == "/api/v1/targets":
            active = [{"labels": {"job": job}, "scrapeInterval": every} for job, every in self.targets]
            return self._send(
                200, {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}}
            )
        if url.path == "/api/v1/query":
            result = [
                {"metric": dict(s.labels), "value": [s.samples[0].t, _number(s.samples[0].value)]}
                for s in self.fake.instant(args["query"], float(args["time"]))
            ]
            return self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        if url.path == "/api/v1/query_range":
            window = Window("w", float(args["start"]), float(args["end"]))
            result = [
                {"metric": dict(s.labels), "values": [[p.t, _number(p.value)] for p in s.samples]}
                for s in self.fake.range(args["query"], window, float(args["step"]))
            ]
            return self._send(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})
        return self._send(404, {"status": "error"})


@contextmanager
def serve_prometheus(
    fake: FakeMetricsSource, targets: tuple[tuple[str, str], ...]
) -> Iterator[type[FakePrometheusApi]]:
    """Serve ``fake`` on a free loopback port until the block ends; the handler class carries ``url`` and
    a settable ``mode``."""

    class Api(FakePrometheusApi):
        pass

    Api.fake, Api.targets = fake, targets
    handler: type[FakePrometheusApi] = Api
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield handler
    finally:
        httpd.shutdown()
        httpd.server_close()
