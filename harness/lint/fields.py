"""Reading one field of the merged compose YAML as a value located at the file:line that wrote it.

A value Compose itself would reject is an ``InputError`` naming the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness.errors import InputError
from harness.lint.merge import Loc, key_loc
from harness.yamlsource import LinedDict, LinedList

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    value: T
    loc: Loc


def parse_field(container: LinedDict, key: str, what: str, parse: Callable[[Any], T]) -> Located[T] | None:
    """``container[key]`` parsed, or None when absent or null; ``what`` names the container in errors."""
    if key not in container or container[key] is None:
        return None
    loc = key_loc(container, key)
    try:
        return Located(parse(container[key]), loc)
    except (ValueError, TypeError) as exc:
        raise InputError(loc.file, loc.line, f"{what}.{key}: {exc}") from None


def mapping_field(container: LinedDict, key: str, what: str) -> LinedDict:
    """``container[key]`` as a mapping; absent or null reads as an empty one."""
    value = container.get(key)
    if value is None:
        empty = LinedDict()
        empty.path, empty.line, empty.key_lines = container.path, container.line_of(key), {}
        return empty
    if not isinstance(value, LinedDict):
        loc = key_loc(container, key)
        raise InputError(
            loc.file, loc.line, f"{what}.{key} must be a mapping" if what else f"{key} must be a mapping"
        )
    return value


def sequence_field(container: LinedDict, key: str, what: str) -> LinedList:
    """``container[key]`` as a list; absent or null reads as an empty one."""
    value = container.get(key)
    if value is None:
        empty = LinedList()
        empty.path, empty.line, empty.item_lines = container.path, container.line_of(key), []
        return empty
    if not isinstance(value, LinedList):
        loc = key_loc(container, key)
        raise InputError(loc.file, loc.line, f"{what}.{key} must be a list")
    return value


def integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"not an integer: {value!r}") from None


def as_count(value: object) -> int:
    """A number of containers (``deploy.replicas``, ``scale``): a whole number, zero or more."""
    number = integer(value)
    if number < 0:
        raise ValueError(f"expected a whole number of containers (0 or more), got {value!r}")
    return number


def as_text(value: object) -> str:
    if isinstance(value, LinedDict | LinedList):
        raise ValueError(f"expected a string, got {type(value).__name__.removeprefix('Lined').lower()}")
    return "" if value is None else str(value)
