"""Merging several compose files the way ``docker compose -f a.yml -f b.yml`` does, keeping the
file:line of every winning value.

Per service: mappings merge recursively; ``environment``, ``labels``, ``depends_on``, ``networks`` (list
or mapping forms) merge by key; ``ports``, ``expose``, ``dns`` and the like concatenate without duplicates;
``volumes``/``devices`` merge by container path; ``command``, ``entrypoint``, ``healthcheck.test`` and every
other scalar or list are replaced by the later file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.errors import InputError
from harness.yamlsource import LinedDict, LinedList


class TrackedDict(LinedDict):
    """A LinedDict whose keys may come from different files."""

    key_paths: dict[str, str]


class TrackedList(LinedList):
    """A LinedList whose items may come from different files."""

    item_paths: list[str]


@dataclass(frozen=True, slots=True)
class Loc:
    file: str
    line: int


def key_loc(mapping: object, key: str) -> Loc:
    if not isinstance(mapping, LinedDict):
        return Loc("<unknown>", 0)
    paths = getattr(mapping, "key_paths", None)
    return Loc(paths.get(key, mapping.path) if paths else mapping.path, mapping.line_of(key))


def item_loc(sequence: object, index: int) -> Loc:
    if not isinstance(sequence, LinedList):
        return Loc("<unknown>", 0)
    paths = getattr(sequence, "item_paths", None)
    path = paths[index] if paths and 0 <= index < len(paths) else sequence.path
    return Loc(path, sequence.line_of(index))


def new_dict(like: object) -> TrackedDict:
    result = TrackedDict()
    result.path = getattr(like, "path", "<merged>")
    result.line = getattr(like, "line", 0)
    result.key_lines, result.key_paths = {}, {}
    return result


def new_list(like: object) -> TrackedList:
    result = TrackedList()
    result.path = getattr(like, "path", "<merged>")
    result.line = getattr(like, "line", 0)
    result.item_lines, result.item_paths = [], []
    return result


def put(target: TrackedDict, key: str, value: Any, source: object, source_key: str) -> None:
    """Set ``target[key]`` remembering where ``source[source_key]`` was written."""
    loc = key_loc(source, source_key)
    target[key] = value
    target.key_lines[key] = loc.line
    target.key_paths[key] = loc.file


def append(target: TrackedList, value: Any, source: object, index: int) -> None:
    loc = item_loc(source, index)
    target.append(value)
    target.item_lines.append(loc.line)
    target.item_paths.append(loc.file)


def copy_dict(mapping: LinedDict) -> TrackedDict:
    result = new_dict(mapping)
    for key, value in mapping.items():
        put(result, key, value, mapping, key)
    return result


def as_mapping(value: object, list_item: Callable[[Any], tuple[str, Any]], field: str) -> object:
    """The mapping form of a field written either as a mapping or as a list (``KEY=VALUE``, names)."""
    if not isinstance(value, LinedList):
        return value
    result = new_dict(value)
    for index, item in enumerate(value):
        loc = item_loc(value, index)
        if isinstance(item, LinedDict | LinedList) or item is None:
            raise InputError(loc.file, loc.line, f"{field}: each list item must be a string")
        key, mapped = list_item(item)
        result[key] = mapped
        result.key_lines[key] = loc.line
        result.key_paths[key] = loc.file
    return result


def _key_value(item: object) -> tuple[str, Any]:
    key, sep, value = str(item).partition("=")
    return key.strip(), (value if sep else None)


def _name_only(item: object) -> tuple[str, Any]:
    return str(item), None  # depends_on: condition service_started, as Compose reads the list form


# Fields written as a list or a mapping, merged by key.
BY_KEY: dict[str, Callable[[Any], tuple[str, Any]]] = {
    "environment": _key_value,
    "labels": _key_value,
    "extra_hosts": _key_value,
    "sysctls": _key_value,
    "annotations": _key_value,
    "depends_on": _name_only,
    "networks": _name_only,
}
# Sequences concatenated without duplicates.
UNIQUE_LISTS = frozenset(
    {
        "ports",
        "expose",
        "external_links",
        "cap_add",
        "cap_drop",
        "volumes_from",
        "device_cgroup_rules",
        "dns",
        "dns_search",
        "dns_opt",
        "env_file",
        "tmpfs",
        "links",
        "security_opt",
        "secrets",
        "configs",
        "group_add",
    }
)
BY_PATH = frozenset({"volumes", "devices"})


def normalize_service(service: LinedDict) -> TrackedDict:
    """One file's service with list-or-mapping fields in mapping form, scalar lists as lists."""
    result = copy_dict(service)
    for field, item in BY_KEY.items():
        if field in result:
            result[field] = as_mapping(result[field], item, field)
    for field in UNIQUE_LISTS:
        value = result.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool):
            single = new_list(result)
            single.append(value)
            single.item_lines.append(result.key_lines[field])
            single.item_paths.append(result.key_paths[field])
            result[field] = single
    return result


def merge_mappings(base: object, override: object, deep: bool = True) -> object:
    """Recursive merge; anything not a mapping on both sides is replaced by the override."""
    if not (isinstance(base, LinedDict) and isinstance(override, LinedDict)):
        return override
    result = copy_dict(base)
    for key, value in override.items():
        merged = merge_mappings(result[key], value) if deep and key in result else value
        put(result, key, merged, override, key)
    return result


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    return str(value)


def _unique_concat(base: object, override: object) -> object:
    if not (isinstance(base, LinedList) and isinstance(override, LinedList)):
        return override
    result = new_list(base)
    seen: set[object] = set()
    for source in (base, override):
        for index, item in enumerate(source):
            key = _canonical(item)
            if key not in seen:
                seen.add(key)
                append(result, item, source, index)
    return result


def _mount_target(item: object) -> str:
    if isinstance(item, dict):
        return str(item.get("target", _canonical(item)))
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _by_path(base: object, override: object) -> object:
    if not (isinstance(base, LinedList) and isinstance(override, LinedList)):
        return override
    slots: dict[str, tuple[Any, object, int]] = {}
    for source in (base, override):
        for index, item in enumerate(source):
            slots[_mount_target(item)] = (item, source, index)
    result = new_list(base)
    for item, origin, index in slots.values():
        append(result, item, origin, index)
    return result


def merge_service(base: LinedDict, override: LinedDict) -> TrackedDict:
    result = copy_dict(base)
    for key, value in override.items():
        if key not in result:
            merged = value
        elif key in BY_KEY:
            merged = merge_mappings(result[key], value, deep=False)
        elif key in UNIQUE_LISTS:
            merged = _unique_concat(result[key], value)
        elif key in BY_PATH:
            merged = _by_path(result[key], value)
        elif key == "healthcheck" and isinstance(value, LinedDict) and value.get("disable") is True:
            merged = value
        else:
            merged = merge_mappings(result[key], value)
        put(result, key, merged, override, key)
    return result


def merge_files(documents: Iterable[LinedDict]) -> TrackedDict:
    """Merge already-normalized compose documents, later files overriding earlier ones."""
    result: TrackedDict | None = None
    for document in documents:
        if result is None:
            result = copy_dict(document)
            continue
        for key, value in document.items():
            if key == "services" and isinstance(result.get(key), LinedDict) and isinstance(value, LinedDict):
                services = copy_dict(result[key])
                for name, service in value.items():
                    current = services.get(name)
                    merged = (
                        merge_service(current, service)
                        if isinstance(current, LinedDict) and isinstance(service, LinedDict)
                        else service
                    )
                    put(services, name, merged, value, name)
                put(result, key, services, document, key)
            else:
                merged = merge_mappings(result[key], value) if key in result else value
                put(result, key, merged, document, key)
    return result if result is not None else new_dict(None)
