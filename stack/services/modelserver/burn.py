"""Real resource use: CPU time per token and resident memory per loaded model."""

from __future__ import annotations

import hashlib
import mmap
import time

_CHUNK = b"\x5a" * 16384  # > 2 KiB so hashlib releases the GIL and threads burn in parallel
PAGE = mmap.PAGESIZE


def burn_cpu(seconds: float) -> int:
    """Hash until this thread has used ``seconds`` of CPU time; returns the number of rounds.

    Thread CPU time, not wall time: under contention a token costs the same CPU and takes longer,
    as on a real model server.
    """
    if seconds <= 0:
        return 0
    deadline = time.thread_time() + seconds
    digest = hashlib.sha256()
    rounds = 0
    while time.thread_time() < deadline:
        digest.update(_CHUNK)
        rounds += 1
    return rounds


class MemoryBlock:
    """Anonymous memory of ``size`` bytes with every page written, so it counts in RSS.

    mmap rather than bytearray so that close() returns the pages to the OS at once (glibc keeps
    some freed heap memory).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._map: mmap.mmap | None = mmap.mmap(-1, size)
        pages = (size + PAGE - 1) // PAGE
        self._map[::PAGE] = b"\x01" * pages

    @property
    def closed(self) -> bool:
        return self._map is None

    def page_sum(self) -> int:
        """Sum of the first byte of every page (== number of pages while held)."""
        if self._map is None:
            return 0
        return sum(self._map[::PAGE])

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
