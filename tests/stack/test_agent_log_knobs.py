"""What structured_logs reads from the agents, run as the image runs them: a traced request to an agent that
asks a peer leaves the same trace id in both agents' logs, the caller's line of the call naming the peer, and
the answer names its service for the gateway's log; the mutants' knobs break exactly that
(TRACE_PROPAGATION=false: the peer never sees the id; LOG_FORMAT=text: lines that are not JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from _services import Service, free_port, has_debian_runtime, service

pytestmark = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)

TRACE = "0123456789abcdef0123456789abcdef"


@contextmanager
def caller_and_peer(**env: str) -> Iterator[tuple[Service, Service]]:
    """agent-summarizer asking agent-orchestrator, ``env`` set on the caller."""
    port = free_port()
    with service("agent", port, BIND_HOST="127.0.0.1", AGENT_NAME="agent-orchestrator") as peer:
        peer.wait_healthy()
        peers = f"agent-orchestrator=http://127.0.0.1:{port}"
        with service(
            "agent", free_port(), BIND_HOST="127.0.0.1", AGENT_NAME="agent-summarizer", PEERS=peers, **env
        ) as caller:
            caller.wait_healthy()
            yield caller, peer


def traced_task(caller: Service) -> httpx.Response:
    return httpx.post(
        f"{caller.base}/api/task", json={"input": "hello"}, headers={"X-Trace-ID": TRACE}, timeout=10
    )


def lines(running: Service) -> list[dict[str, Any]]:
    return [json.loads(line) for line in running.output().splitlines() if line.strip()]


def test_the_trace_id_reaches_the_peer_and_each_hop_is_logged() -> None:
    with caller_and_peer() as (caller, peer):
        answer = traced_task(caller)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Service"] == "agent-summarizer"
        # /health is logged at DEBUG only: its answer names no service, so no log promises its trace id
        assert "X-Service" not in httpx.get(f"{caller.base}/health", timeout=5).headers
        called = [x for x in lines(caller) if x["message"] == "call"]
        assert [(x["upstream"], x["status"], x["trace_id"]) for x in called] == [
            ("agent-orchestrator", 200, TRACE)
        ]
        assert any(x.get("trace_id") == TRACE for x in lines(peer))


def test_trace_propagation_off_sends_the_peer_a_fresh_id() -> None:
    with caller_and_peer(TRACE_PROPAGATION="false") as (caller, peer):
        assert traced_task(caller).status_code == 200
        assert any(x["message"] == "call" and x["trace_id"] == TRACE for x in lines(caller))
        served = [x for x in lines(peer) if x["message"] == "request" and x.get("path") == "/api/task"]
        assert served and all(x["trace_id"] != TRACE for x in served)


def test_log_format_text_writes_lines_that_are_not_json() -> None:
    with service("agent", free_port(), BIND_HOST="127.0.0.1", LOG_FORMAT="text") as running:
        running.wait_healthy()
        written = [line for line in running.output().splitlines() if line.strip()]
    assert written
    for line in written:
        with pytest.raises(ValueError):
            json.loads(line)
