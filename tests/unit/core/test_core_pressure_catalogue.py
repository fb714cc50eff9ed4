"""slas.yaml pressure faults (memory_pressure, cpu_pressure): sizes, fractions, ramps, workers and load read
and bounded; every mistake one InputError naming the line and the field, exit 2 through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_synth import OneFault

from harness.cli import main

CATALOGUE = OneFault("pressed", "1.1", "analyzer: {name: memory_limits}")
parse = CATALOGUE.parse


def error_of(fault: str) -> str:
    return CATALOGUE.error_of(fault, "slas.yaml:4: scenarios.pressed.fault")


@pytest.mark.parametrize(
    ("fault", "attributes"),
    [
        ("{kind: memory_pressure, target: a, bytes: 64m}", {"bytes": 64 * 1024**2}),
        ("{kind: memory_pressure, target: a, bytes: 1Gi, ramp: 30s}", {"bytes": 1024**3, "ramp": 30.0}),
        ("{kind: memory_pressure, target: a, bytes: 2097152}", {"bytes": 2 * 1024**2}),
        (
            "{kind: memory_pressure, target: a, fraction_of_limit: 1.2, ramp: 10}",
            {"fraction_of_limit": 1.2, "ramp": 10.0},
        ),
        ("{kind: cpu_pressure, target: a}", {}),
        ("{kind: cpu_pressure, target: a, workers: 2, load: 80}", {"workers": 2.0, "load": 80.0}),
    ],
)
def test_pressure_attributes_are_read_typed(fault: str, attributes: dict[str, float]) -> None:
    spec = parse(fault).scenarios[0].fault
    assert spec is not None and spec.target == "a"
    assert dict(spec.attributes) == attributes
    assert parse(fault).scenarios[0].faulted_service == "a"


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("{kind: memory_pressure, target: a}", ".fault: give exactly one of bytes and fraction_of_limit"),
        (
            "{kind: memory_pressure, target: a, bytes: 64m, fraction_of_limit: 0.5}",
            ".fault.bytes: give exactly one of bytes and fraction_of_limit",
        ),
        (
            "{kind: memory_pressure, target: a, bytes: lots}",
            ".bytes: expected a size like 64m or 1g (binary units), got 'lots'",
        ),
        (
            "{kind: memory_pressure, target: a, bytes: 4k}",
            ".bytes: 4 KiB is outside 1 MiB..64 GiB for bytes",
        ),
        (
            "{kind: memory_pressure, target: a, fraction_of_limit: 5}",
            ".fraction_of_limit: 5 is outside 0.01..4 for fraction_of_limit",
        ),
        (
            "{kind: memory_pressure, target: a, fraction_of_limit: half}",
            ".fraction_of_limit: expected a number, got 'half'",
        ),
        ("{kind: memory_pressure, target: a, bytes: 8m, ramp: soon}", ".ramp: expected a duration"),
        (
            "{kind: memory_pressure, target: a, bytes: 8m, ramp: 20m}",
            ".ramp: 1200 is outside 0..600 for ramp",
        ),
        (
            "{kind: memory_pressure, target: a, bytes: 8m, workers: 2}",
            ".workers: unknown attribute for memory_pressure (expected: kind, target, stream, bytes, fraction_of_limit, ramp)",
        ),
        (
            "{kind: memory_pressure, target: a, bytes: 8m, stream: upstream}",
            ".stream: only proxy faults have a stream",
        ),
        ("{kind: cpu_pressure, target: a, workers: 1.5}", ".workers: expected an integer, got 1.5"),
        ("{kind: cpu_pressure, target: a, workers: 0}", ".workers: 0 is outside 1..64 for workers"),
        ("{kind: cpu_pressure, target: a, load: 150}", ".load: 150 is outside 1..100 for load"),
        ("{kind: cpu_pressure, target: a, bytes: 8m}", ".bytes: unknown attribute for cpu_pressure"),
    ],
)
def test_pressure_mistakes_name_the_line_and_the_field(fault: str, words: str) -> None:
    assert words in error_of(fault)


def test_a_wrong_pressure_attribute_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "slas.yaml"
    bad.write_text(CATALOGUE.text("{kind: cpu_pressure, target: a, load: 0}"))
    assert main(["slas", "--slas", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == f"harness slas: {bad}:4: scenarios.pressed.fault.load: 0 is outside 1..100 for load\n"
