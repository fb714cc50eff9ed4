"""The reference stack, brought up once for the integration module that needs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from harness.bringup import PhaseTiming
from harness.images import build_images
from harness.stack import Stack

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


@contextmanager
def _throwaway_stack(fixture: Path, project: str) -> Iterator[Stack]:
    """A small compose fixture as ``project``: leftovers removed first, up until the block ends, then down,
    failing if anything was left behind."""
    running = Stack.from_files([fixture], project)
    running.down(timeout=1)
    try:
        running.up(health_timeout=60)
        yield running
    finally:
        left = running.down(timeout=1)
        assert not left, f"left behind: {left}"


@pytest.fixture(scope="session")
def throwaway_stack() -> Callable[[Path, str], AbstractContextManager[Stack]]:
    """_throwaway_stack, for modules that bring up their own fixture project."""
    return _throwaway_stack
