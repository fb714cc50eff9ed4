"""Unit tests of the model server's pure logic (config, catalog, scheduler, pool, burn, generate)."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "stack" / "services"))

from modelserver.burn import MemoryBlock, burn_cpu
from modelserver.catalog import Model, normalize_name, parse_catalog
from modelserver.config import load_config, parse_host
from modelserver.durations import parse_duration
from modelserver.generate import RequestError, Timings, chunk, final_fields, parse_request, timestamp, words
from modelserver.pool import LoadError, ModelPool
from modelserver.scheduler import QueueFull, Scheduler


# --- durations ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5m", 300.0), ("1h30m", 5400.0), ("250ms", 0.25), ("10", 10.0), (30, 30.0), ("0", 0.0), ("1.5s", 1.5)],
)
def test_parse_duration(value: str | int, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["-1", -1, "-5m"])
def test_negative_duration_is_forever(value: str | int) -> None:
    assert parse_duration(value) == math.inf


@pytest.mark.parametrize("value", ["", "5x", "m5", "abc", True])
def test_bad_duration(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)  # type: ignore[arg-type]


# --- catalog and config ------------------------------------------------------------------------------
def test_catalog_parses_and_normalizes() -> None:
    models = parse_catalog("tinyllama=50331648, phi:2.7b=67108864")
    assert models == (Model("tinyllama:latest", 50331648), Model("phi:2.7b", 67108864))
    assert normalize_name("tinyllama") == "tinyllama:latest"
    assert normalize_name("library/phi:2.7b") == "library/phi:2.7b"
    assert len(models[0].digest) == 64


@pytest.mark.parametrize("text", ["", "a", "a=x", "a=0", "a=1,a:latest=2"])
def test_bad_catalog(text: str) -> None:
    with pytest.raises(ValueError):
        parse_catalog(text)


def test_config_defaults() -> None:
    config = load_config({})
    assert (config.host, config.port) == ("0.0.0.0", 10110)
    assert (config.num_parallel, config.max_queue, config.max_loaded_models) == (2, 16, 1)
    assert config.keep_alive_s == 300
    assert config.burner_threads == 2
    assert config.catalog


def test_config_port_wins_over_ollama_host_and_cpu_limit_caps_threads() -> None:
    config = load_config(
        {
            "OLLAMA_HOST": "127.0.0.1:11434",
            "PORT": "10110",
            "OLLAMA_NUM_PARALLEL": "8",
            "OLLAMA_CPU_LIMIT": "3",
        }
    )
    assert (config.host, config.port) == ("127.0.0.1", 10110)
    assert config.burner_threads == 3
    assert load_config({"OLLAMA_NUM_PARALLEL": "8"}).burner_threads == 8
    assert load_config({"OLLAMA_NUM_PARALLEL": "2", "OLLAMA_CPU_LIMIT": "4"}).burner_threads == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0.0.0:10110", ("0.0.0.0", 10110)),
        ("http://localhost:9", ("localhost", 9)),
        (":7", ("0.0.0.0", 7)),
        ("example", ("example", 10110)),
        ("", ("0.0.0.0", 10110)),
        ("[::]:5", ("::", 5)),
    ],
)
def test_parse_host(raw: str, expected: tuple[str, int]) -> None:
    assert parse_host(raw) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"OLLAMA_NUM_PARALLEL": "0"},
        {"OLLAMA_MAX_QUEUE": "-1"},
        {"PORT": "x"},
        {"OLLAMA_KEEP_ALIVE": "soon"},
        {"OLLAMA_CPU_LIMIT": "-2"},
        {"MODEL_CATALOG": "a=b"},
        {"PORT": "70000"},
    ],
)
def test_bad_config_names_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        load_config(env)


# --- generate request parsing ------------------------------------------------------------------------
def test_parse_generate_defaults() -> None:
    req = parse_request({"model": "phi", "prompt": "hi"}, 32, 100, chat=False)
    assert (req.model, req.stream, req.num_predict, req.limited, req.keep_alive_s) == (
        "phi:latest",
        True,
        32,
        False,
        None,
    )


def test_parse_generate_options() -> None:
    req = parse_request(
        {"model": "phi", "prompt": "hi", "stream": False, "options": {"num_predict": 500}, "keep_alive": "0"},
        32,
        100,
        chat=False,
    )
    assert (req.stream, req.num_predict, req.limited, req.keep_alive_s) == (False, 100, True, 0.0)
    assert (
        parse_request({"model": "m", "options": {"num_predict": -1}}, 32, 100, chat=False).num_predict == 100
    )


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"prompt": "x"},
        {"model": ""},
        {"model": "m", "stream": "yes"},
        {"model": "m", "options": "fast"},
        {"model": "m", "options": {"num_predict": "5"}},
        {"model": "m", "keep_alive": "later"},
    ],
)
def test_parse_generate_rejects(body: object) -> None:
    with pytest.raises(RequestError) as info:
        parse_request(body, 32, 100, chat=False)
    assert info.value.status == 400


def test_parse_chat_joins_messages() -> None:
    body = {
        "model": "phi",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    }
    req = parse_request(body, 32, 100, chat=True)
    assert (req.chat, req.prompt) == (True, "be brief\nhi")
    assert parse_request({"model": "phi"}, 32, 100, chat=True).prompt == ""
    for bad in ({"model": "m", "messages": "hi"}, {"model": "m", "messages": [{"content": 3}]}):
        with pytest.raises(RequestError):
            parse_request(bad, 32, 100, chat=True)


def test_answer_shapes_for_generate_and_chat() -> None:
    assert chunk("m:latest", False, "hi")["response"] == "hi"
    assert chunk("m:latest", True, "hi", done=True)["message"] == {"role": "assistant", "content": "hi"}
    timings = Timings(total_s=1.5, load_s=0.25, prompt_eval_count=2, prompt_eval_s=0, eval_count=3, eval_s=1)
    fields = final_fields(timings, "stop", chat=False)
    assert fields["total_duration"] == 1_500_000_000 and fields["load_duration"] == 250_000_000
    assert fields["eval_duration"] == 1_000_000_000 and fields["context"] == []
    assert "context" not in final_fields(timings, "stop", chat=True)


def test_words_are_deterministic_and_counted() -> None:
    first = list(words("prompt", 5))
    assert first == list(words("prompt", 5))
    assert len(first) == 5 and first[1].startswith(" ")
    assert timestamp().endswith("Z")


# --- scheduler ---------------------------------------------------------------------------------------
def test_scheduler_queues_beyond_parallel_and_rejects_beyond_queue() -> None:
    async def scenario() -> None:
        scheduler = Scheduler(num_parallel=2, max_queue=1)
        await scheduler.acquire()
        await scheduler.acquire()
        assert scheduler.running == 2
        waiter = asyncio.create_task(scheduler.acquire())
        await asyncio.sleep(0)
        assert scheduler.waiting == 1 and not waiter.done()
        with pytest.raises(QueueFull):
            await scheduler.acquire()
        assert scheduler.rejected == 1
        scheduler.release()
        await asyncio.wait_for(waiter, 1)
        assert (scheduler.running, scheduler.waiting) == (2, 0)
        scheduler.release()
        scheduler.release()
        assert scheduler.running == 0

    asyncio.run(scenario())


def test_scheduler_is_fifo_and_survives_cancelled_waiters() -> None:
    async def scenario() -> None:
        scheduler = Scheduler(num_parallel=1, max_queue=5)
        order: list[int] = []
        await scheduler.acquire()

        async def worker(i: int) -> None:
            async with scheduler.slot():
                order.append(i)

        tasks = [asyncio.create_task(worker(i)) for i in range(4)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        await asyncio.sleep(0)
        assert scheduler.waiting == 3
        scheduler.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert order == [0, 2, 3]
        assert (scheduler.running, scheduler.waiting) == (0, 0)

    asyncio.run(scenario())


# --- model pool --------------------------------------------------------------------------------------
class FakeBlock:
    def __init__(self, model: Model, log: list[str]) -> None:
        self.model = model
        self.log = log

    def close(self) -> None:
        self.log.append(f"unload {self.model.name}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


A, B, C = Model("a:latest", 10), Model("b:latest", 20), Model("c:latest", 30)


def make_pool(max_loaded: int, keep_alive_s: float = 300.0) -> tuple[ModelPool, list[str], Clock]:
    log: list[str] = []
    clock = Clock()

    async def loader(model: Model) -> FakeBlock:
        log.append(f"load {model.name}")
        await asyncio.sleep(0)
        return FakeBlock(model, log)

    return ModelPool(max_loaded, keep_alive_s, loader, clock=clock), log, clock


def test_pool_loads_once_and_evicts_least_recently_used() -> None:
    async def scenario() -> None:
        pool, log, _ = make_pool(max_loaded=2)
        async with pool.use(A) as lease:
            assert lease.load_duration_s >= 0
        async with pool.use(B):
            pass
        async with pool.use(A) as lease:  # A becomes most recently used
            assert lease.load_duration_s == 0
        async with pool.use(C):
            pass
        assert log == ["load a:latest", "load b:latest", "unload b:latest", "load c:latest"]
        assert sorted(m.model.name for m in pool.loaded()) == ["a:latest", "c:latest"]
        assert (pool.loads, pool.evictions, pool.loaded_bytes) == (3, 1, 40)

    asyncio.run(scenario())


def test_pool_never_evicts_a_model_in_use_the_other_request_waits() -> None:
    async def scenario() -> None:
        pool, log, _ = make_pool(max_loaded=1)
        release_a = asyncio.Event()

        async def hold_a() -> None:
            async with pool.use(A):
                await release_a.wait()

        holder = asyncio.create_task(hold_a())
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(_use(pool, B))
        await asyncio.sleep(0.01)
        assert not waiter.done() and pool.waiting == 1
        assert [m.model.name for m in pool.loaded()] == ["a:latest"]
        release_a.set()
        await asyncio.wait_for(asyncio.gather(holder, waiter), 1)
        assert log == ["load a:latest", "unload a:latest", "load b:latest"]
        assert pool.evictions == 1

    asyncio.run(scenario())


async def _use(pool: ModelPool, model: Model) -> None:
    async with pool.use(model):
        await asyncio.sleep(0)


def test_pool_concurrent_requests_for_one_model_load_it_once() -> None:
    async def scenario() -> None:
        pool, log, _ = make_pool(max_loaded=1)
        await asyncio.gather(*(_use(pool, A) for _ in range(5)))
        assert log == ["load a:latest"]

    asyncio.run(scenario())


def test_pool_keep_alive_expiry_and_zero_keep_alive() -> None:
    async def scenario() -> None:
        pool, log, clock = make_pool(max_loaded=2, keep_alive_s=60)
        async with pool.use(A):
            pass
        async with pool.use(B, keep_alive_s=0):
            pass
        assert log[-1] == "unload b:latest"  # keep_alive 0 unloads at once
        clock.now += 59
        assert await pool.expire() == 0
        assert pool.loaded()[0].expires_in_s == pytest.approx(1)
        clock.now += 2
        assert await pool.expire() == 1
        assert pool.loaded() == [] and pool.expirations == 2

    asyncio.run(scenario())


def test_pool_failed_load_frees_the_slot() -> None:
    async def scenario() -> None:
        calls = 0

        async def loader(model: Model) -> FakeBlock:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise MemoryError("no room")
            return FakeBlock(model, [])

        pool = ModelPool(1, 300, loader)
        with pytest.raises(LoadError, match="no room"):
            await _use(pool, A)
        await _use(pool, B)
        assert [m.model.name for m in pool.loaded()] == ["b:latest"]
        assert pool.load_failures == 1

    asyncio.run(scenario())


# --- real resources ----------------------------------------------------------------------------------
def test_memory_block_writes_every_page_and_frees() -> None:
    block = MemoryBlock(1 << 20)
    assert block.page_sum() == (1 << 20) // 4096
    block.close()
    assert block.closed and block.page_sum() == 0


def test_burn_cpu_uses_thread_cpu_time() -> None:
    started_cpu = time.thread_time()
    rounds = burn_cpu(0.05)
    used = time.thread_time() - started_cpu
    assert rounds > 0
    assert 0.05 <= used < 0.5
    assert burn_cpu(0) == 0
