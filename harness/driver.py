"""Which orchestrator brings the stack up: ``compose`` (the Compose CLI, the default) or ``swarm``
(``docker stack deploy`` on a single-node Swarm, harness/swarm/).

Chosen by ``--driver`` on ``run``, ``up``, ``down``, ``status`` and ``clean``, else slas.yaml's
``defaults.driver``, else compose. Both drivers give the same ``Stack`` interface (bring-up by phases with
health gates, take-down, a service's containers and its current one), so faults, analyzers and Prometheus
see the same stack either way: the Swarm driver labels each task's container with the Compose project and
service labels everything else already reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from harness.errors import InputError
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.yamlsource import load_file

if TYPE_CHECKING:  # the catalogue's parser imports this module: neither the catalogue nor the engine here
    from harness.catalogue.reader import Fields
    from harness.stack import Stack

Driver = Literal["compose", "swarm"]
DRIVERS: tuple[Driver, ...] = ("compose", "swarm")
DEFAULT_DRIVER: Driver = "compose"


def add_driver_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        help="compose (docker-compose up) or swarm (docker stack deploy on a single-node Swarm the harness "
        "initialises if none exists, and leaves as found); default: slas.yaml's defaults.driver, else compose",
    )


def driver_from_slas(path: str | Path | None) -> Driver:
    """slas.yaml's ``defaults.driver`` alone (compose when absent, or without a slas.yaml), for the commands
    that read no catalogue; a bad value is one InputError naming file:line and the field."""
    if path is None or not Path(path).is_file():
        return DEFAULT_DRIVER
    from harness.catalogue.reader import Fields

    document = load_file(path)
    if not isinstance(document, dict) or not isinstance(document.get("defaults"), dict):
        return DEFAULT_DRIVER
    defaults = Fields(document, "", str(path), 1).mapping("defaults")
    return DEFAULT_DRIVER if defaults is None else read_driver(defaults)


def read_driver(defaults: Fields) -> Driver:
    """``driver`` of a slas.yaml ``defaults`` mapping; the catalogue's parser reads it the same way."""
    return cast(Driver, defaults.choice("driver", DRIVERS, DEFAULT_DRIVER))


def resolve_driver(given: str | None, slas: str | Path | None) -> Driver:
    """``--driver`` when given, else slas.yaml's ``defaults.driver``, else compose."""
    if given is not None:
        if given not in DRIVERS:
            raise InputError("--driver", None, f"expected one of {', '.join(DRIVERS)}, got {given!r}")
        return cast(Driver, given)
    return driver_from_slas(slas)


def open_stack_files(
    driver: Driver,
    files: Sequence[Path],
    project_name: str | None = None,
    labels: StackLabels = DEFAULT_LABELS,
) -> Stack:
    """The stack these compose files describe, driven by ``driver``."""
    from harness.stack import Stack
    from harness.swarm.stack import SwarmStack

    chosen = SwarmStack if driver == "swarm" else Stack
    return chosen.from_files(files, project_name, labels)
