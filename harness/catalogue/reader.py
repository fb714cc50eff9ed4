"""Typed reading of one YAML mapping, with every error naming file, line and field.

``Fields`` wraps a ``LinedDict`` from ``harness.yamlsource``: each accessor checks a type and
consumes the key; ``finish()`` rejects whatever key nobody consumed. ``read_dataclass`` reads a frozen
dataclass from its type hints, so an analyzer declares its parameters once, as a dataclass, and gets
the same file:line errors as the rest of slas.yaml.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from harness.errors import InputError
from harness.windows import DURATION
from harness.yamlsource import LinedDict, LinedList

DURATION_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$"
_DURATION = re.compile(DURATION_PATTERN)
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_MISSING: Any = object()
T = TypeVar("T")
S = TypeVar("S", bound=str)


@typing.runtime_checkable
class Spelling(Protocol):
    """``Annotated[str, spelling]`` metadata: the forms a string parameter takes (a percentile like
    ``p(99.9)``), as a regular expression the whole value must match, and how an error says it. It is a
    protocol so that analyzers declare spellings without importing the catalogue."""

    pattern: str
    expected: str


def show(value: Any) -> str:
    """A value for an error message: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Fields:
    """Typed, consuming access to one mapping; ``where`` names it in errors (e.g. ``objectives[2]``)."""

    def __init__(self, node: Any, where: str, path: str, line: int | None) -> None:
        if not isinstance(node, dict):
            raise InputError(path, line, f"{where or 'the document'}: expected a mapping, got {show(node)}")
        self.node = node
        self.where = where
        self.path = getattr(node, "path", path)
        self.line = getattr(node, "line", line)
        self._used: set[str] = set()

    def line_of(self, key: str) -> int | None:
        return self.node.line_of(key) if isinstance(self.node, LinedDict) else self.line

    def error(self, key: str | None, message: str) -> InputError:
        name = self._child(key) if key else self.where
        where = f"{name}: " if name else ""
        return InputError(self.path, self.line_of(key) if key else self.line, where + message)

    def _child(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return key in self.node

    def _get(self, key: str, default: Any) -> Any:
        self._used.add(key)
        if key in self.node and self.node[key] is not None:
            return self.node[key]
        if default is _MISSING:
            raise self.error(key, "missing required key" if key not in self.node else "must not be empty")
        return default

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default)

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if value is default:
            return typing.cast(str, value)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"expected a string, got {show(value)}")
        if isinstance(value, str) and not value.strip():
            raise self.error(key, "must not be empty")
        return str(value)

    def number(self, key: str, default: Any = _MISSING, minimum: float | None = None) -> float:
        value = self._get(key, default)
        if value is default:
            return typing.cast(float, value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, f"expected a number, got {show(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum:g}, got {value:g}")
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, minimum: int | None = None) -> int:
        value = self._get(key, default)
        if value is default:
            return typing.cast(int, value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {show(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        return value

    def url(self, key: str, default: Any = _MISSING) -> str:
        """An http(s) URL with a host; a default of "" (the feature is off) is taken as it is."""
        url = self.string(key, default)
        problem = url_problem(url) if url != "" else None
        if problem:
            raise self.error(key, problem)
        return url

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if value is default:
            return typing.cast(bool, value)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {show(value)}")
        return value

    def duration(self, key: str, default: Any = _MISSING, positive: bool = True) -> float:
        value = self._get(key, default)
        if value is default:
            return typing.cast(float, value)
        seconds = parse_duration(value)
        if seconds is None:
            raise self.error(key, f"expected a duration (seconds, or like 500ms, 30s, 2m), got {show(value)}")
        if positive and seconds <= 0:
            raise self.error(key, "must be longer than zero")
        return seconds

    def choice(self, key: str, options: tuple[S, ...], default: Any = _MISSING) -> S:
        value = self._get(key, default)
        if value is default:
            return typing.cast(S, value)
        if not isinstance(value, str) or value not in options:
            raise self.error(key, f"expected one of {', '.join(options)}, got {show(value)}")
        return typing.cast(S, value)

    def strings(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        """A string or a list of strings."""
        value = self._get(key, default)
        if value is default:
            return typing.cast(tuple[str, ...], value)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise self.error(key, f"expected a string or a list of strings, got {show(value)}")
        return tuple(items)

    def numbers(self, key: str, default: Any = _MISSING) -> float | tuple[float, ...]:
        """A number, or a list of numbers (a range's bounds)."""
        value = self._get(key, default)
        if value is default or not isinstance(value, list):
            return self.number(key, default)
        if not value or any(
            isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in value
        ):
            raise self.error(key, f"expected a number or a list of numbers, got {show(value)}")
        return tuple(float(v) for v in value)

    def mapping(self, key: str) -> Fields | None:
        """An optional nested mapping."""
        value = self._get(key, None)
        return None if value is None else Fields(value, self._child(key), self.path, self.line_of(key))

    def section(self, key: str) -> Fields:
        """A required nested mapping."""
        return Fields(self._get(key, _MISSING), self._child(key), self.path, self.line_of(key))

    def sequence(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(key, default)
        if value is default:
            return typing.cast(list[Any], value)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {show(value)}")
        return value

    def allow(self, key: str) -> None:
        """Count ``key`` as known without reading it."""
        self._used.add(key)

    def finish(self) -> None:
        """Reject keys nobody read: a typo must not be silently ignored."""
        unknown = [k for k in self.node if k not in self._used]
        if unknown:
            known = ", ".join(sorted(self._used)) or "none"
            raise self.error(unknown[0], f"unknown key (expected one of: {known})")


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an http(s) URL with a host (the client would fail on it later), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading it is what checks it (a port over 65535, or not a number)
    except ValueError as exc:
        return f"expected an http:// or https:// URL, got {show(url)}: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"expected an http:// or https:// URL with a host, got {show(url)}"
    return None


def item_line(seq: list[Any], index: int, fallback: int | None) -> int | None:
    return seq.line_of(index) if isinstance(seq, LinedList) else fallback


def parse_duration(value: Any) -> float | None:
    """Seconds from a number or a string with unit ms, s, m or h; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_S[match.group(2)]
    return None


def read_dataclass(cls: type[T], fields: Fields) -> T:
    """Build a frozen dataclass from its type hints; unknown keys and wrong types are InputErrors.

    Supported hints: bool, int, float, str, ``Seconds`` (a duration), ``Annotated[str, Spelling]``,
    ``Literal[...]``, ``tuple[str, ...]``, ``float | tuple[float, ...]`` (a number or a list of numbers),
    ``Mapping[str, frozenset[str]]`` (a graph) and ``X | None``. A ``__post_init__`` ValueError of the
    form ``"field: message"`` is reported at that field's line.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        has_default = field.default is not dataclasses.MISSING
        if not fields.has(field.name) and has_default:
            fields.allow(field.name)  # absent, but known: an unknown key's error lists it
            continue
        default = field.default if has_default else _MISSING
        values[field.name] = _read_hint(fields, field.name, hints[field.name], default)
    fields.finish()
    try:
        return cls(**values)
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        key = name if fields.has(name) else None
        raise fields.error(key, message or str(exc)) from exc


def _read_hint(fields: Fields, key: str, hint: Any, default: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        if DURATION in args[1:]:
            return fields.duration(key, default, positive=False)
        spelling = next((a for a in args[1:] if isinstance(a, Spelling)), None)
        if spelling is not None:
            return _read_spelled(fields, key, spelling, default)
        return _read_hint(fields, key, args[0], default)
    if origin in (typing.Union, types.UnionType) and set(args) == {float, tuple[float, ...]}:
        return fields.numbers(key, default)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return _read_hint(fields, key, inner, None if default is _MISSING else default)
    if hint is bool:
        return fields.boolean(key, default)
    if hint is int:
        return fields.integer(key, default)
    if hint is float:
        return fields.number(key, default)
    if hint is str:
        return fields.string(key, default)
    if origin is typing.Literal:
        return fields.choice(key, tuple(str(a) for a in args), default)
    if origin is tuple and args == (str, Ellipsis):
        return fields.strings(key, default)
    if origin is Mapping and args == (str, frozenset[str]):
        return _read_graph(fields, key, default)
    raise TypeError(f"read_dataclass cannot read {key}: {hint!r}")


def _read_spelled(fields: Fields, key: str, spelling: Spelling, default: Any) -> str:
    value = fields.string(key, default)
    if value is not default and not re.fullmatch(spelling.pattern, value):
        raise fields.error(key, f"expected {spelling.expected}, got {show(value)}")
    return value


def _read_graph(fields: Fields, key: str, default: Any) -> Mapping[str, frozenset[str]] | None:
    node = fields.mapping(key) if default is not _MISSING else fields.section(key)
    if node is None:
        return typing.cast(Mapping[str, frozenset[str]] | None, default)
    graph = {name: frozenset(node.strings(name, ())) for name in list(node.node)}
    node.finish()
    return types.MappingProxyType(graph)
