"""The load ends by itself soon after the harness that started it is gone.

Locust runs in a session of its own, so a SIGKILLed harness would leave it loading the stack until its
--run-time ran out, and a run started right after would be judged under double load. The harness passes
its pid in LOAD_PARENT_PID; when this process's parent is no longer that pid (the kernel re-parents an
orphan to init or a subreaper), the harness is gone. Comparing the parent pid, rather than probing the
harness's pid, cannot be fooled by the pid being reused. It needs the harness to be Locust's direct
parent: when it is not at the start (a wrapper in between), the locustfile does not watch.

Free of Locust and gevent, like pushmetrics.py, so the unit tests can import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PARENT_ENV = "LOAD_PARENT_PID"
POLL_S = 1.0
"""How often the locustfile checks; it quits within about this long (plus its own stop) of the harness."""


def expected_parent(env: Mapping[str, str]) -> int | None:
    """The harness's pid, or None when Locust runs by itself (no parent to outlive)."""
    value = env.get(PARENT_ENV, "")
    return int(value) if value.isdigit() else None


def orphaned(expected: int | None, parent: int | None = None) -> bool:
    """Whether the process that started this one is gone."""
    if expected is None:
        return False
    return (os.getppid() if parent is None else parent) != expected
