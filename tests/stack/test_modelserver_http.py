"""The model server over HTTP: run by Debian's python3 (aiohttp, prometheus_client) as the image runs it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from _services import free_port, has_debian_runtime, service

pytestmark = pytest.mark.skipif(
    not has_debian_runtime(), reason="needs /usr/bin/python3 with python3-aiohttp"
)


@contextmanager
def modelserver(**env: str) -> Iterator[str]:
    with service("modelserver", free_port(), OLLAMA_HOST="127.0.0.1", **env) as running:
        running.wait_healthy()
        yield running.base


def metric(base: str, name: str) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with modelserver(MODEL_CATALOG="tinyllama=8388608,phi=16777216", TOKEN_CPU_MS="2") as base:
        yield base


def test_small_endpoints(server: str) -> None:
    assert httpx.get(server + "/").text == "Ollama is running"
    assert "version" in httpx.get(server + "/api/version").json()
    tags = httpx.get(server + "/api/tags").json()["models"]
    assert {m["name"] for m in tags} == {"tinyllama:latest", "phi:latest"}
    assert (
        tags[0]["size"] == 8388608 and len(tags[0]["digest"]) == 64 and tags[0]["details"]["format"] == "gguf"
    )


def test_unknown_model_is_404_like_ollama(server: str) -> None:
    response = httpx.post(server + "/api/generate", json={"model": "x", "prompt": "hi"})
    assert response.status_code == 404
    assert response.json() == {"error": 'model "x" not found, try pulling it first'}
    assert httpx.post(server + "/api/generate", json={"prompt": "hi"}).status_code == 400
    assert httpx.post(server + "/api/generate", content=b"{nope").status_code == 400


def test_streaming_generate(server: str) -> None:
    with httpx.stream(
        "POST",
        server + "/api/generate",
        json={"model": "tinyllama", "prompt": "a b c", "options": {"num_predict": 4}},
    ) as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        chunks = [json.loads(line) for line in response.iter_lines() if line]
    assert len(chunks) == 5
    assert all(c["done"] is False and c["response"] and c["model"] == "tinyllama:latest" for c in chunks[:4])
    final = chunks[-1]
    assert final["done"] is True and final["done_reason"] == "length"
    assert final["eval_count"] == 4 and final["prompt_eval_count"] == 3
    assert final["total_duration"] >= final["eval_duration"] > 0
    assert isinstance(final["load_duration"], int)


def test_non_streaming_generate_and_ps(server: str) -> None:
    response = httpx.post(server + "/api/generate", json={"model": "phi", "prompt": "hello", "stream": False})
    body = response.json()
    assert response.status_code == 200 and body["done"] is True and body["done_reason"] == "stop"
    assert len(body["response"].split()) == body["eval_count"] == 32
    loaded = httpx.get(server + "/api/ps").json()["models"]
    assert [m["name"] for m in loaded] == ["phi:latest"]
    assert loaded[0]["size"] == 16777216 and loaded[0]["expires_at"].endswith("Z")


def test_metrics_have_contract_names(server: str) -> None:
    httpx.post(server + "/api/generate", json={"model": "phi", "prompt": "x", "stream": False})
    text = httpx.get(server + "/metrics").text
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "ollama_requests_inflight",
        "ollama_queue_depth",
        "ollama_num_parallel",
        "ollama_max_loaded_models",
        "ollama_loaded_models",
        "ollama_loaded_model_bytes",
        "ollama_tokens_generated_total",
        "ollama_rejected_total",
        "ollama_model_loads_total",
        "ollama_model_evictions_total",
    ):
        assert f"\n{name}" in text, name
    assert 'http_requests_total{method="POST",path="/api/generate",status="200"}' in text
    assert 'le="7.5"' in text and metric(server, "ollama_tokens_generated_total") >= 32


def _generate(base: str, results: list[tuple[int, float]], tokens: int) -> None:
    started = time.monotonic()
    response = httpx.post(
        base + "/api/generate",
        json={"model": "tinyllama", "prompt": "q", "stream": False, "options": {"num_predict": tokens}},
        timeout=60,
    )
    results.append((response.status_code, time.monotonic() - started))


def _wait_for(base: str, name: str, value: float, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while metric(base, name) != value:
        assert time.monotonic() < deadline, f"{name} never reached {value}"
        time.sleep(0.02)


@pytest.mark.slow
def test_queue_beyond_parallel_and_503_beyond_queue() -> None:
    with modelserver(
        OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1", TOKEN_CPU_MS="20", MODEL_CATALOG="tinyllama=4194304"
    ) as base:
        results: list[tuple[int, float]] = []
        first = threading.Thread(target=_generate, args=(base, results, 40))
        first.start()
        _wait_for(base, "ollama_requests_inflight", 1)
        second = threading.Thread(target=_generate, args=(base, results, 5))
        second.start()
        _wait_for(base, "ollama_queue_depth", 1)
        rejected = httpx.post(base + "/api/generate", json={"model": "tinyllama", "prompt": "q"})
        assert rejected.status_code == 503
        assert rejected.json() == {
            "error": "server busy, please try again.  maximum pending requests exceeded"
        }
        first.join(60)
        second.join(60)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 200]
        # The queued request waited for the first (40 tokens x 20 ms CPU) before its own 5 tokens.
        assert max(elapsed for _, elapsed in results) >= 0.8
        assert metric(base, "ollama_rejected_total") == 1


def test_loading_another_model_evicts_and_rss_follows() -> None:
    size = 64 << 20
    with modelserver(
        MODEL_CATALOG=f"a={size},b={size}", TOKEN_CPU_MS="0", OLLAMA_MAX_LOADED_MODELS="1"
    ) as base:
        rss_before = metric(base, "process_resident_memory_bytes")
        httpx.post(base + "/api/generate", json={"model": "a", "prompt": "x", "stream": False}, timeout=30)
        rss_loaded = metric(base, "process_resident_memory_bytes")
        assert rss_loaded - rss_before >= 0.9 * size
        httpx.post(base + "/api/generate", json={"model": "b", "prompt": "x", "stream": False}, timeout=30)
        assert [m["name"] for m in httpx.get(base + "/api/ps").json()["models"]] == ["b:latest"]
        assert metric(base, "ollama_model_evictions_total") == 1
        assert metric(base, "ollama_loaded_model_bytes") == size
        # One model resident: RSS did not grow by a second model.
        assert metric(base, "process_resident_memory_bytes") - rss_before < 1.5 * size


@pytest.mark.slow
def test_keep_alive_unloads_idle_model() -> None:
    with modelserver(MODEL_CATALOG="a=4194304", TOKEN_CPU_MS="0", OLLAMA_KEEP_ALIVE="1s") as base:
        httpx.post(base + "/api/generate", json={"model": "a", "prompt": "x", "stream": False})
        assert metric(base, "ollama_loaded_models") == 1
        _wait_for(base, "ollama_loaded_models", 0, timeout=10)
        assert httpx.get(base + "/api/ps").json()["models"] == []


def test_chat_endpoint(server: str) -> None:
    body = {
        "model": "phi",
        "messages": [{"role": "user", "content": "hi there"}],
        "stream": False,
        "options": {"num_predict": 3},
    }
    answer = httpx.post(server + "/api/chat", json=body).json()
    assert answer["message"]["role"] == "assistant" and len(answer["message"]["content"].split()) == 3
    assert answer["done"] is True and answer["prompt_eval_count"] == 2
    with httpx.stream("POST", server + "/api/chat", json={**body, "stream": True}) as response:
        chunks = [json.loads(line) for line in response.iter_lines() if line]
    assert [c["done"] for c in chunks] == [False, False, False, True]
    assert chunks[0]["message"]["content"]


def test_client_going_away_mid_stream_frees_the_slot(server: str) -> None:
    body = {"model": "tinyllama", "prompt": "long", "options": {"num_predict": 1000}}
    with httpx.stream("POST", server + "/api/generate", json=body) as response:
        lines = response.iter_lines()
        assert json.loads(next(lines))["done"] is False
    # The stream was closed after one chunk: the generation must stop and release its slot.
    _wait_for(server, "ollama_requests_inflight", 0, timeout=10)
    tokens = metric(server, "ollama_tokens_generated_total")
    time.sleep(0.3)
    assert metric(server, "ollama_tokens_generated_total") == tokens


def test_empty_prompt_loads_only(server: str) -> None:
    answer = httpx.post(server + "/api/generate", json={"model": "tinyllama"}).json()
    assert answer["done"] is True and answer["done_reason"] == "load" and answer["response"] == ""


def test_trace_id_is_echoed(server: str) -> None:
    response = httpx.post(
        server + "/api/generate",
        json={"model": "tinyllama", "prompt": "x", "stream": False, "options": {"num_predict": 1}},
        headers={"X-Trace-ID": "trace-123", "X-Span-ID": "span-9"},
    )
    assert response.status_code == 200 and response.headers["X-Trace-ID"] == "trace-123"
