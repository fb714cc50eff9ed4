"""The reference stack, brought up once for the integration module that needs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.images import build_images
from harness.stack import PhaseTiming, Stack

REPO = Path(__file__).resolve().parents[2]
REFERENCE_STACK = REPO / "stack" / "compose.yml"


def open_reference_stack(*overrides: Path) -> Stack:
    stack = Stack.from_files([REFERENCE_STACK, *overrides])
    build_images(stack.project.image_builds())
    return stack


@pytest.fixture(scope="session")
def reference_stack_factory() -> Callable[..., Stack]:
    """open_reference_stack, for test modules that need the stack with overrides or their own lifetime."""
    return open_reference_stack


@pytest.fixture(scope="module")
def reference_stack() -> Iterator[tuple[Stack, list[PhaseTiming]]]:
    """The stack from nothing: torn down first (a crashed run's leftovers), up in phases, down after."""
    stack = open_reference_stack()
    stack.down()
    try:
        timings = stack.up(health_timeout=240)
        yield stack, timings
    finally:
        stack.down()
