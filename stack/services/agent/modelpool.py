"""LRU model pool under a byte budget (rule 4.1), holding real, touched memory.

A "model" is a bytearray of the configured size with one byte written in every
4096-byte page, so the kernel really backs it and the container's RSS shows it.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

PAGE = 4096


class ModelTooLarge(ValueError):
    """One model does not fit the pool's budget even when the pool is empty."""


@dataclasses.dataclass(frozen=True, slots=True)
class PoolStats:
    bytes_used: int
    limit_bytes: int
    models: int
    loads_total: int
    evictions_total: int
    names: tuple[str, ...]  # least recently used first


@dataclasses.dataclass(frozen=True, slots=True)
class Lookup:
    name: str
    loaded: bool  # True when this lookup loaded the model (a miss)
    evicted: tuple[str, ...]


def load_weights(size: int) -> bytearray:
    weights = bytearray(size)
    pages = len(range(0, size, PAGE))
    weights[::PAGE] = b"\x01" * pages
    return weights


class ModelPool:
    __slots__ = ("_evict", "_evictions", "_limit", "_loads", "_models", "_size")

    def __init__(self, *, limit_bytes: int, model_size_bytes: int, evict: bool = True) -> None:
        if model_size_bytes < 1:
            raise ValueError("model_size_bytes must be >= 1")
        self._limit = limit_bytes
        self._size = model_size_bytes
        self._evict = evict
        self._models: OrderedDict[str, bytearray] = OrderedDict()
        self._loads = 0
        self._evictions = 0

    def get(self, name: str) -> Lookup:
        """Use a model: hit moves it to most-recent; miss evicts LRU models until it fits, then loads."""
        if name in self._models:
            self._models.move_to_end(name)
            return Lookup(name, loaded=False, evicted=())
        if self._evict and self._size > self._limit:
            raise ModelTooLarge(f"model of {self._size} bytes exceeds the pool budget of {self._limit} bytes")
        evicted: list[str] = []
        while self._evict and self._models and self.bytes_used + self._size > self._limit:
            lru, _ = self._models.popitem(last=False)
            evicted.append(lru)
            self._evictions += 1
        self._models[name] = load_weights(self._size)
        self._loads += 1
        return Lookup(name, loaded=True, evicted=tuple(evicted))

    def release_all(self) -> int:
        """Drop every model (hibernation); returns how many were released."""
        count = len(self._models)
        self._models.clear()
        return count

    @property
    def bytes_used(self) -> int:
        return sum(len(w) for w in self._models.values())

    def stats(self) -> PoolStats:
        return PoolStats(
            bytes_used=self.bytes_used,
            limit_bytes=self._limit,
            models=len(self._models),
            loads_total=self._loads,
            evictions_total=self._evictions,
            names=tuple(self._models),
        )
