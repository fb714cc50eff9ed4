"""slas.yaml's JSON Schema, derived from the catalogue model, for editors (yaml-language-server).

Not written by hand: each section is the JSON Schema of the dataclass the parser reads it into (its
type hints, as ``read_dataclass`` reads them: durations, spellings, literals, lists), every analyzer's
parameters included. Only what the parser assembles by hand is assembled here too: a scenario's fault
attributes, an objective's ``promql:``/``analyzer:``, ``scenarios``, ``rule`` and the scoring keys. The
parser stays the judge: it also checks what a schema cannot say (bounds between fields, known scenario
names, durations against the load bounds).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from harness.analyzers import ANALYZERS, PROMQL
from harness.catalogue.grading import CRITERIA_KEYS, CRITERION_PATTERN, PERCENT_PATTERN
from harness.catalogue.load_spec import BODYLESS, METHODS, LoadRequest
from harness.catalogue.model import FAULT_ATTRIBUTES, Defaults, FaultSpec, Objective, Scenario
from harness.catalogue.parse import _NAME, LINT_SECTIONS, VERSION
from harness.catalogue.reader import DURATION_PATTERN, Spelling
from harness.labels import StackLabels
from harness.rules import SECTIONS
from harness.windows import DURATION

JSONSchema = dict[str, Any]
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_TEXT: JSONSchema = {"type": "string", "pattern": r"\S"}
_STRINGS: JSONSchema = {"anyOf": [_TEXT, {"type": "array", "items": _TEXT}]}
_QUANTITY: JSONSchema = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[a-zA-Z]*\s*$"},
    ]
}
_DURATION: JSONSchema = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}]
}


def catalogue_schema() -> JSONSchema:
    return {
        "$schema": DIALECT,
        "title": "slas.yaml: the SLA catalogue of chaos-sla-harness",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "scenarios", "objectives"],
        "properties": {
            "version": {"const": VERSION},
            "defaults": dataclass_schema(Defaults),
            "scenarios": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": _NAME.pattern},
                "additionalProperties": _scenario_schema(),
            },
            "objectives": {"type": "array", "minItems": 1, "items": _objective_schema()},
            "total_score": _total_score_schema(),
            "load": _load_schema(),
            "labels": dataclass_schema(StackLabels),
            "suites": _STRINGS,
            **{
                section: {"description": "the static lint's (python -m harness lint)"}
                for section in LINT_SECTIONS
            },
        },
    }


def dataclass_schema(cls: type, skip: tuple[str, ...] = (), by_hand: bool = False) -> JSONSchema:
    """An object with a property per field of ``cls`` (but ``skip``), required when it has no default.

    ``by_hand``: the parser reads ``cls`` by hand, so a field whose type ``read_dataclass`` could not read
    is a section with its own reader: any value is let through, for the parser to judge."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    schema: JSONSchema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(hints[f.name], by_hand) for f in fields},
    }
    return {**schema, "required": required} if required else schema


def _field_schema(hint: Any, by_hand: bool) -> JSONSchema:
    try:
        return hint_schema(hint)
    except TypeError:
        if not by_hand:
            raise
        return {"description": "read by its own reader: python -m harness slas checks it"}


def hint_schema(hint: Any) -> JSONSchema:
    """The JSON Schema of one type hint, as ``harness.catalogue.reader`` reads it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        if DURATION in args[1:]:
            return _DURATION
        spelling = next((a for a in args[1:] if isinstance(a, Spelling)), None)
        if spelling is not None:
            return {
                "type": "string",
                "pattern": f"^(?:{spelling.pattern})$",
                "description": spelling.expected,
            }
        return hint_schema(args[0])
    if origin in (typing.Union, types.UnionType):
        options = [hint_schema(a) for a in args if a is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    simple = {bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"}, str: _TEXT}
    if hint in simple:
        return dict(simple[hint])
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is tuple and args == (str, Ellipsis):
        return _STRINGS
    if origin is tuple and args == (float, Ellipsis):
        return {"type": "array", "minItems": 1, "items": {"type": "number"}}
    if origin is Mapping and args == (str, frozenset[str]):
        return {"type": "object", "additionalProperties": _STRINGS}
    if dataclasses.is_dataclass(hint):
        return dataclass_schema(typing.cast(type, hint))
    raise TypeError(f"no JSON Schema for {hint!r}")


def _scenario_schema() -> JSONSchema:
    schema = dataclass_schema(Scenario, skip=("name", "fault"), by_hand=True)
    del schema["required"]  # the parser gives each key of a scenario a default
    schema["properties"]["fault"] = _fault_schema()
    return schema


def _fault_schema() -> JSONSchema:
    """A fault's own keys, and its kind's numeric attributes beside them (not nested, as Toxiproxy's)."""
    schema = dataclass_schema(FaultSpec, skip=("attributes",))
    own = list(schema["properties"])
    names = sorted({name for names in FAULT_ATTRIBUTES.values() for name in names})
    # Numbers, some with a unit (a burst's duration, a pressure's size): their readers check which.
    schema["properties"].update({name: _QUANTITY for name in names})
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"propertyNames": {"enum": own + list(allowed)}},
        }
        for kind, allowed in FAULT_ATTRIBUTES.items()
    ]
    return schema


_OBJECTIVE_BY_HAND = ("id", "rule", "scenarios", "measurement", "line", "grading")
"""Objective fields the parser reads by hand; every other field is read from its type."""


def _objective_schema() -> JSONSchema:
    schema = dataclass_schema(Objective, skip=_OBJECTIVE_BY_HAND, by_hand=True)
    schema["required"] = ["id", "rule", "scenarios", "window"]
    schema["oneOf"] = [{"required": ["promql"]}, {"required": ["analyzer"]}]
    # Criteria grade a promql: objective's measured number (harness.catalogue.grading); warning needs pass.
    schema["dependentSchemas"] = {
        "pass": {"required": ["promql"]},
        "warning": {"required": ["promql", "pass"]},
    }
    criterion = {"type": "string", "pattern": CRITERION_PATTERN}
    schema["properties"].update(
        {
            "id": {"type": "string", "pattern": _NAME.pattern},
            # A string: YAML reads 10.10 unquoted as the number 10.1.
            "rule": {"type": "string", "enum": list(SECTIONS)},
            "scenarios": {
                "anyOf": [
                    {"type": "string", "pattern": _NAME.pattern},
                    {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
                ]
            },
            "promql": dataclass_schema(PROMQL.params),
            "analyzer": _analyzer_schema(),
            "weight": {"type": "number", "minimum": 0},
            **{
                key: {"anyOf": [criterion, {"type": "array", "minItems": 1, "items": criterion}]}
                for key in CRITERIA_KEYS
            },
        }
    )
    return schema


def _analyzer_schema() -> JSONSchema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {"name": {"enum": list(ANALYZERS)}, "params": {"type": "object"}},
        "allOf": [
            {
                "if": {"properties": {"name": {"const": name}}, "required": ["name"]},
                "then": {"properties": {"params": dataclass_schema(spec.params)}},
            }
            for name, spec in ANALYZERS.items()
        ],
    }


def _load_schema() -> JSONSchema:
    """A locustfile of the stack's own, or the generic locustfile's requests (one of the two)."""
    request = dataclass_schema(LoadRequest, skip=("body",))
    spellings = [*METHODS, *(m.lower() for m in METHODS)]
    with_body = [m for m in spellings if m.upper() not in BODYLESS]
    request["properties"].update(
        {
            "path": {"type": "string", "pattern": "^/"},
            "method": {"enum": spellings},
            "body": {"description": "sent as JSON (not with GET, HEAD or OPTIONS)"},
            "weight": {"type": "integer", "minimum": 1},
        }
    )
    # A body only with a method that sends one (GET when none is given).
    request["if"] = {"not": {"required": ["method"], "properties": {"method": {"enum": with_body}}}}
    request["then"] = {"not": {"required": ["body"]}}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "locustfile": {**_TEXT, "description": "relative to slas.yaml"},
            "requests": {"type": "array", "minItems": 1, "items": request},
        },
        "oneOf": [{"required": ["locustfile"]}, {"required": ["requests"]}],
    }


def _total_score_schema() -> JSONSchema:
    fraction = {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": 1},
            {"type": "string", "pattern": PERCENT_PATTERN},
        ]
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["pass"],
        "properties": {"pass": fraction, "warning": fraction},
    }
