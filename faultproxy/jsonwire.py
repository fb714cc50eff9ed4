"""JSON as Go's encoding/json reads and writes it, which is what Toxiproxy's clients see.

Reading (``decode_first`` + the ``take_*`` helpers) follows ``json.NewDecoder(body).Decode(&struct)``:
only the first JSON value is read, unknown keys are ignored, keys match field names exactly or else
case-insensitively, the last matching key wins, ``null`` leaves a field at its default, and a value of
the wrong type is an error in Go's words. Writing (``encode``) is compact, keeps dict order (the field
order of Go structs), escapes ``<``, ``>``, ``&`` like Go and prints floats the way Go prints float32.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable
from decimal import Decimal

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class DecodeError(Exception):
    """The body is not the JSON expected; ``str()`` is the text Go's decoder would give."""


class Pairs(list[tuple[str, object]]):
    """A decoded JSON object: its key/value pairs in document order, duplicates kept."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid constant {name}")


_DECODER = json.JSONDecoder(object_pairs_hook=Pairs, parse_constant=_reject_constant)

_PY_TO_GO = (
    ("Expecting property name enclosed in double quotes", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting ',' delimiter", "after object key:value pair"),
    ("Expecting value", "looking for beginning of value"),
    ("Extra data", "after top-level value"),
)


def decode_first(body: bytes) -> object:
    """Decode the first JSON value of ``body``; anything after it is ignored, as Go's Decoder does."""
    text = body.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise DecodeError("EOF")
    try:
        value, _end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise DecodeError(_go_syntax_message(exc, text)) from exc
    except ValueError as exc:  # NaN / Infinity, which Go rejects
        raise DecodeError(f"invalid character {text[start]!r} looking for beginning of value") from exc
    return value


def _go_syntax_message(exc: json.JSONDecodeError, text: str) -> str:
    if exc.pos >= len(text) or exc.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    found = text[exc.pos]
    for py, go in _PY_TO_GO:
        if exc.msg.startswith(py):
            return f"invalid character {found!r} {go}"
    return f"invalid character {found!r} in string literal"


def go_kind(value: object) -> str:
    """The JSON kind as Go's UnmarshalTypeError names it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Pairs):
        return "object"
    return "array"


def type_error(value: object, where: str, go_type: str) -> DecodeError:
    kind = go_kind(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        kind = f"number {format_number(value)}"
    return DecodeError(f"json: cannot unmarshal {kind} into {where} of type {go_type}")


def fold_pairs(value: object, fields: Iterable[str], where: str) -> dict[str, object]:
    """Map a decoded object onto struct ``fields`` the way Go matches keys; ``null`` fields are left out.

    ``where`` names the Go type for the error when ``value`` is not an object at all.
    """
    if not isinstance(value, Pairs):
        raise DecodeError(f"json: cannot unmarshal {go_kind(value)} into Go value of type {where}")
    names = tuple(fields)
    folded = {name.casefold(): name for name in names}
    out: dict[str, object] = {}
    for key, item in value:
        name = key if key in names else folded.get(key.casefold())
        if name is None:
            continue
        if item is None:
            out.pop(name, None)
            continue
        out[name] = item
    return out


def take_str(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    raise type_error(value, where, "string")


def take_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise type_error(value, where, "bool")


def take_int64(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
        return value
    raise type_error(value, where, "int64")


def take_float32(value: object, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if abs(number) <= 3.4028234663852886e38:
            return number
    raise type_error(value, where, "float32")


def format_number(value: float) -> str:
    """A number as Go's encoder prints it: ints as they are, floats with float32's shortest digits."""
    if isinstance(value, int):
        return str(value)
    if value == 0 or not math.isfinite(value):
        return "0"
    target = struct.unpack("f", struct.pack("f", value))[0]
    digits = repr(value)
    for precision in range(1, 10):
        candidate = f"{value:.{precision}g}"
        if struct.unpack("f", struct.pack("f", float(candidate)))[0] == target:
            digits = candidate
            break
    number = Decimal(digits).normalize()
    if 1e-6 <= abs(float(digits)) < 1e21:
        return format(number, "f")
    return format(number, "e")


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _encode_str(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _encode(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int | float):
        out.append(format_number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")


def encode(value: object) -> bytes:
    """Compact JSON bytes as Go's json.Marshal writes them."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()
