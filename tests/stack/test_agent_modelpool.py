import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.modelpool import PAGE, ModelPool, ModelTooLarge, load_weights

MIB = 1024 * 1024


def test_weights_are_touched_on_every_page() -> None:
    weights = load_weights(5 * PAGE + 10)
    assert len(weights) == 5 * PAGE + 10
    assert all(weights[i] == 1 for i in range(0, len(weights), PAGE))
    assert sum(weights) == 6


def test_lazy_load_then_hit() -> None:
    pool = ModelPool(limit_bytes=64 * MIB, model_size_bytes=24 * MIB)
    assert pool.stats().models == 0
    first = pool.get("a")
    again = pool.get("a")
    assert first.loaded and not again.loaded
    stats = pool.stats()
    assert stats.loads_total == 1
    assert stats.bytes_used == 24 * MIB


def test_lru_eviction_keeps_usage_under_budget() -> None:
    pool = ModelPool(limit_bytes=64 * MIB, model_size_bytes=24 * MIB)
    pool.get("a")
    pool.get("b")
    pool.get("a")  # b is now least recently used
    lookup = pool.get("c")
    assert lookup.evicted == ("b",)
    stats = pool.stats()
    assert stats.names == ("a", "c")
    assert stats.bytes_used <= stats.limit_bytes
    assert stats.evictions_total == 1
    assert stats.loads_total == 3


def test_no_evict_mutant_grows_past_the_budget() -> None:
    pool = ModelPool(limit_bytes=64 * MIB, model_size_bytes=24 * MIB, evict=False)
    for name in "abcd":
        pool.get(name)
    stats = pool.stats()
    assert stats.models == 4
    assert stats.bytes_used == 96 * MIB > stats.limit_bytes
    assert stats.evictions_total == 0


def test_model_larger_than_budget_is_refused() -> None:
    pool = ModelPool(limit_bytes=MIB, model_size_bytes=2 * MIB)
    with pytest.raises(ModelTooLarge):
        pool.get("big")
    assert pool.stats().models == 0


def test_release_all_frees_everything() -> None:
    pool = ModelPool(limit_bytes=64 * MIB, model_size_bytes=MIB)
    pool.get("a")
    pool.get("b")
    assert pool.release_all() == 2
    stats = pool.stats()
    assert stats.bytes_used == 0 and stats.models == 0
    assert pool.get("a").loaded
