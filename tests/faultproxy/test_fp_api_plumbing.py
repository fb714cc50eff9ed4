"""Checklist items 1-6: HTTP plumbing of the API."""

from __future__ import annotations

import asyncio
import json
import re
import time

from fp_support import RunningServer, connect

from faultproxy.http import Limits


def test_01_browser_user_agent_gets_403(fp: RunningServer) -> None:
    reply = fp.request("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert reply.status == 403
    assert reply.body == b"User agent not allowed\n"
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"


def test_01_non_browser_user_agents_are_allowed(fp: RunningServer) -> None:
    for agent in ("curl/8.0.1", "Wget/1.21", "python-requests/2.31"):
        assert fp.request("GET", "/proxies", headers={"User-Agent": agent}).status == 200
    assert fp.request("GET", "/proxies").status == 200  # http.client sends no User-Agent


def test_02_every_response_carries_a_request_id(fp: RunningServer) -> None:
    ids = set()
    for method, path in (("GET", "/proxies"), ("GET", "/version"), ("GET", "/nope"), ("GET", "/proxies/x")):
        reply = fp.request(method, path)
        request_id = reply.header("X-Toxiproxy-Request-Id")
        assert request_id is not None and re.fullmatch(r"[0-9a-v]{20}", request_id), (path, request_id)
        ids.add(request_id)
    assert len(ids) == 4


def test_03_version_is_exact(fp: RunningServer) -> None:
    reply = fp.request("GET", "/version")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json;charset=utf-8"
    assert re.fullmatch(rb'\{"version": "[^"]+"\}\n', reply.body), reply.body
    assert reply.body == f'{{"version": "{fp.server.version}"}}\n'.encode()


def test_04_unknown_path_is_404_plain_text(fp: RunningServer) -> None:
    for path in ("/nope", "/proxies/a/b/c/d", "/proxies/"):
        reply = fp.request("GET", path)
        assert reply.status == 404, path
        assert reply.body == b"404 page not found\n"
        assert reply.header("Content-Type") == "text/plain; charset=utf-8"


def test_04_known_path_wrong_method_is_405(fp: RunningServer) -> None:
    for method, path in (
        ("PUT", "/proxies"),
        ("DELETE", "/version"),
        ("GET", "/reset"),
        ("PUT", "/proxies/x"),
    ):
        reply = fp.request(method, path)
        assert reply.status == 405, (method, path)
        assert reply.body == b""


def test_04_unclean_paths_are_redirected_like_gorilla_mux(fp: RunningServer) -> None:
    reply = fp.request("GET", "//proxies")
    assert reply.status == 301
    assert reply.header("Location") == "/proxies"
    reply = fp.request("GET", "/proxies/../version?x=1")
    assert reply.status == 301 and reply.header("Location") == "/version?x=1"


def test_04_path_variables_are_url_decoded(fp: RunningServer) -> None:
    body = {"name": "with space", "upstream": "127.0.0.1:9", "enabled": False}
    assert fp.request("POST", "/proxies", body).status == 201
    assert fp.request("GET", "/proxies/with%20space").json()["name"] == "with space"


def test_04_metrics_is_404_without_the_flag(fp: RunningServer) -> None:
    assert fp.request("GET", "/metrics").status == 404


def test_05_handler_timeout_answers_503() -> None:
    running = RunningServer(handler_timeout=0.3)
    try:
        held = asyncio.Event()
        release = asyncio.Event()

        async def hold_lock() -> None:
            async with running.server.collection.lock:
                held.set()
                await release.wait()

        future = asyncio.run_coroutine_threadsafe(hold_lock(), running.loop)

        async def wait_held() -> None:
            await held.wait()

        running.call(wait_held())
        started = time.monotonic()
        reply = running.request(
            "POST", "/proxies", {"name": "slow", "upstream": "127.0.0.1:1", "enabled": False}
        )
        elapsed = time.monotonic() - started
        assert reply.status == 503
        assert b"<h1>Timeout</h1>" in reply.body
        assert 0.25 <= elapsed < 3
        running.loop.call_soon_threadsafe(release.set)
        future.result(5)
        # The handler went on running, as Go's TimeoutHandler lets it: the proxy exists afterwards.
        assert running.request("GET", "/proxies/slow").status == 200
    finally:
        running.close()


def test_05_read_timeout_closes_a_stalled_request() -> None:
    running = RunningServer(limits=Limits(read_timeout=0.3))
    try:
        sock = connect(running.port)
        sock.sendall(b"GET /proxies HTTP/1.1\r\nHost: x\r\n")  # never finishes the header block
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < 3
        sock.close()
    finally:
        running.close()


def test_05_keep_alive_serves_several_requests_on_one_connection(fp: RunningServer) -> None:
    sock = connect(fp.port)
    request = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
    sock.sendall(request * 3)
    data = b""
    while data.count(b"HTTP/1.1 200") < 3:
        chunk = sock.recv(4096)
        assert chunk
        data += chunk
    sock.close()


def test_06_lenient_json_case_insensitive_and_unknown_keys(fp: RunningServer) -> None:
    body = b'{"NAME":"ci","Upstream":"127.0.0.1:9","ENABLED":false,"bogus":[1,2],"listen":"127.0.0.1:0"}'
    reply = fp.request("POST", "/proxies", body)
    assert reply.status == 201, reply.body
    assert reply.json()["name"] == "ci"
    assert reply.json()["enabled"] is False


def test_06_only_the_first_json_value_is_read(fp: RunningServer) -> None:
    body = b'{"name":"first","upstream":"127.0.0.1:9","enabled":false} {"name":"second"} garbage'
    reply = fp.request("POST", "/proxies", body)
    assert reply.status == 201
    assert reply.json()["name"] == "first"


def test_06_bad_json_is_400_bad_request_body(fp: RunningServer) -> None:
    cases = {
        b"": "bad request body: EOF",
        b"{": "bad request body: unexpected EOF",
        b"nope": "bad request body: invalid character 'n' looking for beginning of value",
        b'{"name": 5, "upstream": "x"}': "bad request body: json: cannot unmarshal number",
        b'{"name": "a", "upstream": "x", "enabled": "yes"}': "bad request body: json: cannot unmarshal string",
        b"[]": "bad request body: json: cannot unmarshal array",
    }
    for body, message in cases.items():
        reply = fp.request("POST", "/proxies", body)
        assert reply.status == 400, body
        assert reply.header("Content-Type") == "text/plain; charset=utf-8"
        assert reply.header("X-Content-Type-Options") == "nosniff"
        assert reply.body.endswith(b"\n")
        error = json.loads(reply.body)
        assert error["status"] == 400
        assert error["error"].startswith(message), (body, error)
    assert fp.request("GET", "/proxies").json() == {}


def test_06_oversized_body_is_rejected_without_reading_it() -> None:
    running = RunningServer(limits=Limits(max_body=1000))
    try:
        sock = connect(running.port)
        # Announce a huge body but send none of it: the answer must come anyway.
        sock.sendall(b"POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        sock.settimeout(5)
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except TimeoutError:
            raise AssertionError("connection not closed after an oversized body") from None
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        assert json.loads(body) == {"error": "bad request body: http: request body too large", "status": 400}
        sock.close()
        reply = running.request("POST", "/proxies", b"x" * 2000)
        assert reply.status == 400
        assert reply.json()["error"] == "bad request body: http: request body too large"
    finally:
        running.close()


def test_06_chunked_body_is_decoded(fp: RunningServer) -> None:
    body = json.dumps({"name": "chunky", "upstream": "127.0.0.1:9", "enabled": False}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    sock = connect(fp.port)
    sock.sendall(
        b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + chunks
    )
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    assert data.startswith(b"HTTP/1.1 201"), data
    assert fp.request("GET", "/proxies/chunky").status == 200


def test_06_malformed_request_line_is_400_and_server_survives(fp: RunningServer) -> None:
    sock = connect(fp.port)
    sock.sendall(b"this is not http\r\n\r\n")
    data = sock.recv(4096)
    sock.close()
    assert data.startswith(b"HTTP/1.1 400")
    assert fp.request("GET", "/version").status == 200
