"""The one exception tree of the harness.

    HarnessError                 anything the harness reports instead of a traceback (exit 2)
    ├── InputError               a file the user gave is wrong: names file, line and field
    ├── EngineError              no Docker engine answers, or it cannot be installed here
    ├── StackError               the stack could not be built, brought up, or taken down
    ├── MeasurementError         Prometheus or a service could not be measured
    ├── FaultError               a fault could not be injected, proven or reverted (harness/faults/base.py)
    │   └── FaultRefused         the target is not in a state the fault can act on
    └── LoadError                the load could not start, died, or asked for more than its bounds
                                 (harness/load/driver.py)

Errors of the libraries underneath (docker, httpx, yaml, subprocess) are translated into these at
the edge, with ``raise ... from exc``, so the CLI can print one line and exit 2.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every error the harness reports as one line and exit code 2."""

    exit_code = 2


class InputError(HarnessError):
    """A user-supplied file is invalid. The message starts with ``file:line``."""

    def __init__(self, path: str, line: int | None, message: str, column: int | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class EngineError(HarnessError):
    """No Docker engine answers and none can be installed or started."""


class StackError(HarnessError):
    """The stack could not be built, brought up, made healthy or taken down."""


class MeasurementError(HarnessError):
    """A measurement source (Prometheus, a service endpoint) could not be read."""
