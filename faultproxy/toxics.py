"""Toxic types, their attribute schemas, and the toxic JSON of the API (toxics/*.go, toxic_collection.go).

A ``Toxic`` is the immutable description the API shows; what a toxic does to bytes lives in
``stages.py``. Every attribute is a JSON integer (milliseconds unless noted), zero when omitted.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import ClassVar

from faultproxy import errors, jsonwire
from faultproxy.jsonwire import DecodeError


class Direction(enum.IntEnum):
    """Upstream is client -> upstream server, downstream the way back; lists show upstream first."""

    UPSTREAM = 0
    DOWNSTREAM = 1

    @classmethod
    def parse(cls, stream: str) -> Direction:
        """stream.ParseDirection: case-insensitive; anything else is the API's invalid-stream error."""
        lowered = stream.lower()
        if lowered == "upstream":
            return cls.UPSTREAM
        if lowered == "downstream":
            return cls.DOWNSTREAM
        raise errors.invalid_stream()


@dataclass(frozen=True, slots=True)
class Attributes:
    """Base of the attribute schemas; field order is the JSON order."""

    go_name: ClassVar[str] = "NoopToxic"


@dataclass(frozen=True, slots=True)
class Latency(Attributes):
    go_name: ClassVar[str] = "LatencyToxic"
    latency: int = 0
    jitter: int = 0


@dataclass(frozen=True, slots=True)
class Bandwidth(Attributes):
    go_name: ClassVar[str] = "BandwidthToxic"
    rate: int = 0  # KB/s, 1 KB = 1000 bytes


@dataclass(frozen=True, slots=True)
class SlowClose(Attributes):
    go_name: ClassVar[str] = "SlowCloseToxic"
    delay: int = 0


@dataclass(frozen=True, slots=True)
class Timeout(Attributes):
    go_name: ClassVar[str] = "TimeoutToxic"
    timeout: int = 0


@dataclass(frozen=True, slots=True)
class ResetPeer(Attributes):
    go_name: ClassVar[str] = "ResetToxic"
    timeout: int = 0


@dataclass(frozen=True, slots=True)
class Slicer(Attributes):
    go_name: ClassVar[str] = "SlicerToxic"
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0  # microseconds


@dataclass(frozen=True, slots=True)
class LimitData(Attributes):
    go_name: ClassVar[str] = "LimitDataToxic"
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Noop(Attributes):
    go_name: ClassVar[str] = "NoopToxic"


TYPES: dict[str, type[Attributes]] = {
    "latency": Latency,
    "bandwidth": Bandwidth,
    "slow_close": SlowClose,
    "timeout": Timeout,
    "reset_peer": ResetPeer,
    "slicer": Slicer,
    "limit_data": LimitData,
    "noop": Noop,
}


@dataclass(frozen=True, slots=True)
class Toxic:
    """One toxic of a proxy, as stored and shown; ``stream`` keeps the spelling the client sent."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Attributes

    @property
    def direction(self) -> Direction:
        return Direction.parse(self.stream)

    def to_json(self) -> dict[str, object]:
        return {
            "attributes": attributes_json(self.attributes),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }


def attributes_json(attributes: Attributes) -> dict[str, object]:
    return {field.name: getattr(attributes, field.name) for field in dataclasses.fields(attributes)}


def decode_attributes(raw: object, current: Attributes) -> Attributes:
    """Decode an ``attributes`` value over ``current``: given keys overwrite, others are kept."""
    names = [field.name for field in dataclasses.fields(current)]
    given = jsonwire.fold_pairs(raw, names, f"toxics.{current.go_name}")
    values = {
        name: jsonwire.take_int64(value, f"Go struct field {current.go_name}.{name}")
        for name, value in given.items()
    }
    return dataclasses.replace(current, **values)


_WRAPPER_FIELDS = ("attributes", "name", "type", "stream", "toxicity")


def parse_new(body: bytes, existing_names: set[str]) -> Toxic:
    """AddToxicJson: body -> stream -> default name -> type -> duplicate name -> attributes."""
    try:
        fields = jsonwire.fold_pairs(jsonwire.decode_first(body), _WRAPPER_FIELDS, "toxics.ToxicWrapper")
        name = jsonwire.take_str(fields.get("name", ""), "Go struct field ToxicWrapper.name")
        type_ = jsonwire.take_str(fields.get("type", ""), "Go struct field ToxicWrapper.type")
        stream = jsonwire.take_str(fields.get("stream", "downstream"), "Go struct field ToxicWrapper.stream")
        toxicity = jsonwire.take_float32(fields.get("toxicity", 1.0), "Go struct field ToxicWrapper.toxicity")
        raw_attributes = fields.get("attributes")
        if raw_attributes is not None and not isinstance(raw_attributes, jsonwire.Pairs):
            raise jsonwire.type_error(
                raw_attributes, "Go struct field ToxicWrapper.attributes", "toxics.Toxic"
            )
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None
    Direction.parse(stream)
    if name == "":
        name = f"{type_}_{stream}"
    schema = TYPES.get(type_)
    if schema is None:
        raise errors.invalid_toxic_type()
    if name in existing_names:
        raise errors.toxic_already_exists()
    attributes: Attributes = schema()
    if raw_attributes is not None:
        try:
            attributes = decode_attributes(raw_attributes, attributes)
        except DecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
    return Toxic(name=name, type=type_, stream=stream, toxicity=toxicity, attributes=attributes)


def parse_update(body: bytes, current: Toxic) -> Toxic:
    """UpdateToxicJson: only ``attributes`` and ``toxicity`` are read, merged over the current values."""
    try:
        fields = jsonwire.fold_pairs(jsonwire.decode_first(body), ("attributes", "toxicity"), "struct")
        toxicity = current.toxicity
        if "toxicity" in fields:
            toxicity = jsonwire.take_float32(fields["toxicity"], "Go struct field .toxicity")
        attributes = current.attributes
        if "attributes" in fields:
            attributes = decode_attributes(fields["attributes"], attributes)
    except DecodeError as exc:
        raise errors.bad_request_body(str(exc)) from None
    return dataclasses.replace(current, toxicity=toxicity, attributes=attributes)
