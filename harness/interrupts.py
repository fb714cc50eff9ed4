"""Interrupts held back while the run puts things back: a Ctrl-C (or SIGTERM) during the take-down or the
report writing would leave a half-down stack and no reports, which is worse than finishing them.

While inside ``deferred_interrupts()``, SIGINT and SIGTERM are noted, not raised; the caller asks afterwards
whether one came (the run is then incomplete: exit 2). Signal handlers belong to the main thread; elsewhere
this only yields.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_interrupts(say: Callable[[str], None]) -> Iterator[Callable[[], bool]]:
    came: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        if not came:
            say(f"{signal.Signals(signum).name} received: finishing the take-down and the reports first")
        came.append(signum)

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = {signum: signal.signal(signum, note) for signum in DEFERRED}
    try:
        yield lambda: bool(came)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
