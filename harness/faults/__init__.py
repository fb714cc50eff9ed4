"""Faults: container faults through the Docker API, proxy faults through the fault proxy's API.

base.py       Fault protocol, FaultError, FaultRefused, FaultRecord, applied(), sigterm_as_interrupt()
container.py  ContainerFault (kill, stop, pause, restart)
proxy.py      ProxyFault (down, latency, timeout, reset_peer, bandwidth), ProxyApi
lifecycle.py  CrashLoopFault (crash_loop), SigtermFault (sigterm), LoadPause (idle: the runner's)
burst.py      BurstFault (ollama_load, http_burst): a bounded burst from a helper container on the stack's network
stress.py     PressureFault (memory_pressure, cpu_pressure): a stress-ng helper inside the target's own cgroup
journal.py    Journal: the faults and the load generator in force, on disk, for the sweep
build.py      build_fault(FaultSpec, stack, proxy_url), restore_fault(record, stack)
sweep.py      sweep(journal, stack, proxy_url): revert leftovers after a crash, stop a leftover load
fake.py       FakeContainer, FakeStack, FakeEngine (docker's client, for pressure faults) for tests
"""

from harness.faults.base import Fault, FaultError, FaultRecord, FaultRefused, applied, sigterm_as_interrupt
from harness.faults.build import build_fault, restore_fault
from harness.faults.container import ContainerFault
from harness.faults.journal import Journal, JournalEntry
from harness.faults.proxy import ProxyApi, ProxyFault
from harness.faults.sweep import SweepReport, sweep

__all__ = [
    "ContainerFault",
    "Fault",
    "FaultError",
    "FaultRecord",
    "FaultRefused",
    "Journal",
    "JournalEntry",
    "ProxyApi",
    "ProxyFault",
    "SweepReport",
    "applied",
    "build_fault",
    "restore_fault",
    "sigterm_as_interrupt",
    "sweep",
]
