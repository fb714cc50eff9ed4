"""What every fault is, and the one way to apply one: journalled, injected, proven, always reverted.

A fault is a frozen dataclass that can ``inject()`` itself (and prove, by reading state back, that it took
effect) and ``revert()`` itself (idempotently: twice, or after a failed inject, is harmless). ``applied()``
is the context manager the runner uses; the journal entry it writes before injecting lets
``python -m harness clean`` revert what a SIGKILLed run left in force.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.faults.journal import Journal


class FaultError(HarnessError):
    """A fault could not be injected, proven to have taken effect, or reverted."""


class FaultRefused(FaultError):
    """The fault was not even attempted: the target is not in the state the fault needs (a container
    that does not run, a proxy already down, a toxic already there). Nothing was changed, so nothing is
    reverted: reverting would undo whatever else put the target in that state."""


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """Enough to rebuild a fault's revert after a crash: what, on which target, and where it lives."""

    kind: str
    """The catalogue kind, e.g. ``container_pause`` or ``proxy_latency``."""
    target: str
    location: str
    """The container id (container faults) or the fault proxy's API URL (proxy faults)."""
    stream: str = "downstream"
    networks: tuple[str, ...] = ()
    """Partitions: each network the target was cut from with its aliases there (``name=alias,alias``), so
    that a crashed run's partition is healed with the names the stack resolves."""
    rules: tuple[str, ...] = ()
    """Partitions by packet drop: each firewall rule put in the target's network namespace
    (``network:chain:interface``), so that a crashed run's rules are deleted, exactly those."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", tuple(self.networks))  # a journal read back gives a list
        object.__setattr__(self, "rules", tuple(self.rules))


class Fault(Protocol):
    @property
    def target(self) -> str: ...

    def describe(self) -> str: ...

    def record(self) -> FaultRecord: ...

    def inject(self) -> None:
        """Apply the fault, then prove it took effect; raise FaultError if it did not."""

    def in_force(self) -> bool:
        """Whether the fault still shows in the target's state (the runner checks it held for the whole
        fault window: an engine or operator may have undone it)."""

    def revert(self) -> None:
        """Undo the fault and prove it is undone; harmless when nothing is in force."""


@contextmanager
def applied(fault: Fault, journal: Journal) -> Iterator[Fault]:
    """Journal, inject and prove the fault; on leaving (also by KeyboardInterrupt or a failed inject)
    revert it and drop its journal entry. A refused fault changed nothing and is not reverted; a failed
    revert keeps the entry, for ``harness clean``. A second Ctrl-C or SIGTERM during the revert is held
    until the revert is done (each of its waits is bounded), then raised."""
    entry = journal.add(fault.record(), pid=os.getpid(), since=time.time())
    refused = False
    try:
        try:
            fault.inject()
        except FaultRefused:
            refused = True
            raise
        yield fault
    finally:
        with _interrupts_held():
            if not refused:
                fault.revert()
            journal.remove(entry)


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM off while inside; raise KeyboardInterrupt afterwards if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _: received.append(n)) for signum in _INTERRUPTS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
    if received:
        raise KeyboardInterrupt(f"signal {signal.Signals(received[0]).name} while reverting a fault")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while inside, so ``applied()`` reverts on `kill` as on Ctrl-C.

    Signal handlers belong to the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
