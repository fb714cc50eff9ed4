"""slas.yaml lifecycle faults (crash_loop, sigterm, idle): their attributes read, and an exit code no crash
caused from outside can have refused in one line naming the field."""

from __future__ import annotations

import pytest
from catalogue_synth import OneFault

from harness.pytest_plugin import fault_family

CATALOGUE = OneFault(
    "lifecycle", "2.3", "promql: {query: 'up', comparator: '>=', threshold: 1}", objective="up"
)


def fault_of(text: str):
    return CATALOGUE.parse(text).scenarios[0].fault


def test_the_lifecycle_kinds_and_their_attributes() -> None:
    crash = fault_of("{kind: crash_loop, target: agent, interval: 2, exit_code: 137}")
    assert (crash.kind, crash.attribute("interval"), crash.attribute("exit_code")) == ("crash_loop", 2.0, 137)
    assert fault_of("{kind: sigterm, target: agent}").kind == "sigterm"
    assert fault_of("{kind: idle, target: agent}").kind == "idle"


@pytest.mark.parametrize("kind", ["crash_loop", "sigterm", "idle"])
def test_the_lifecycle_suite_runs_them(kind: str) -> None:
    catalogue = CATALOGUE.parse(f"{{kind: {kind}, target: agent}}")
    assert fault_family(catalogue.scenarios[0]) == "lifecycle"


@pytest.mark.parametrize(
    ("fault", "field", "says"),
    [
        ("{kind: crash_loop, target: a, exit_code: 3}", "exit_code", "exits 137 (SIGKILL)"),
        ("{kind: sigterm, target: a, timeout: 5}", "timeout", "unknown attribute for sigterm"),
        ("{kind: idle, target: a, stream: upstream}", "stream", "only proxy faults have a stream"),
    ],
)
def test_a_bad_lifecycle_fault_names_its_field(fault: str, field: str, says: str) -> None:
    message = CATALOGUE.error_of(fault, "slas.yaml:4")
    assert field in message and says in message
