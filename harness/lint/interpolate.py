"""Compose variable interpolation: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$``.

Values that used a variable come back as ``Interpolated`` (a ``str``), so rule 9.2 can tell a literal
secret from one taken from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from harness.errors import InputError
from harness.yamlsource import LinedDict, LinedList

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class Interpolated(str):
    """A string whose value came (at least partly) from a variable."""

    __slots__ = ()


class _Invalid(ValueError):
    pass


class _Missing(ValueError):
    pass


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export`` prefix, quotes and ``#`` comments allowed); absent file = empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, f"cannot read: {exc}") from exc
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            raise InputError(str(path), number, f"not a KEY=VALUE line: {raw.strip()!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def substitute(text: str, env: Mapping[str, str]) -> str:
    """Interpolate one string; raises ``ValueError`` with the cause when it cannot."""
    if "$" not in text:
        return text
    out: list[str] = []
    used = False
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            j = text.find("$", i)
            j = len(text) if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            value, i = _braced(text, i + 2, env)
            out.append(value)
            used = True
        else:
            match = _NAME.match(text, i + 1)
            if not match:
                raise _Invalid(f"invalid interpolation format in {text!r}")
            out.append(env.get(match.group(), ""))
            used = True
            i = match.end()
    result = "".join(out)
    return Interpolated(result) if used else result


def _braced(text: str, start: int, env: Mapping[str, str]) -> tuple[str, int]:
    """Expand ``${...}`` whose body starts at ``start``; returns the value and the index after ``}``."""
    match = _NAME.match(text, start)
    if not match:
        raise _Invalid(f"invalid interpolation format in {text!r}")
    name, i = match.group(), match.end()
    if text[i : i + 1] == "}":
        return env.get(name, ""), i + 1
    operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        raise _Invalid(f"invalid interpolation format in {text!r}")
    arg_start = i + len(operator)
    end = _closing_brace(text, arg_start)
    arg = text[arg_start:end]
    value = env.get(name)
    empty_counts = operator.startswith(":")
    unset = value is None or (empty_counts and value == "")
    if operator in (":-", "-"):
        return (substitute(arg, env) if unset else str(value)), end + 1
    if operator in (":+", "+"):
        return ("" if unset else substitute(arg, env)), end + 1
    if unset:
        raise _Missing(f"required variable {name} is missing a value" + (f": {arg}" if arg else ""))
    return str(value), end + 1


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise _Invalid(f"invalid interpolation format in {text!r}: no closing brace")


def interpolate_tree(node: object, env: Mapping[str, str]) -> None:
    """Interpolate every string value (not keys) of a loaded YAML tree, in place."""
    if isinstance(node, LinedDict):
        for key, value in node.items():
            if isinstance(value, str):
                node[key] = _one(value, env, node.path, node.line_of(key))
            else:
                interpolate_tree(value, env)
    elif isinstance(node, LinedList):
        for index, value in enumerate(node):
            if isinstance(value, str):
                node[index] = _one(value, env, node.path, node.line_of(index))
            else:
                interpolate_tree(value, env)


def _one(value: str, env: Mapping[str, str], path: str, line: int) -> str:
    try:
        return substitute(value, env)
    except ValueError as exc:
        raise InputError(path, line, str(exc)) from exc
