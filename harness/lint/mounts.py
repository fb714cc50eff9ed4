"""A service's ``volumes:`` entry, short (``source:target[:mode]``) or long (``{type, source, target,
read_only}``) syntax, as rule 4.2 reads it: what is mounted where, from what kind of source, writable or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.yamlsource import LinedDict

MountKind = Literal["volume", "bind", "tmpfs", "anonymous", "other"]
BIND_PREFIXES = ("/", ".", "~")
"""Compose reads a short-syntax source starting with these as a host path, anything else as a volume name."""


@dataclass(frozen=True, slots=True)
class Mount:
    target: str
    kind: MountKind
    source: str | None
    read_only: bool

    def under(self, path: str) -> bool:
        """Whether this mount is at ``path`` or inside it."""
        target = self.target.rstrip("/") or "/"
        return target == path or target.startswith(path.rstrip("/") + "/")


def parse_mount(item: object) -> Mount:
    if isinstance(item, LinedDict):
        return _long(item)
    if not isinstance(item, str) or not item.strip():
        raise ValueError(f"not a volume mount: {item!r}")
    return _short(item.strip())


def _short(text: str) -> Mount:
    parts = text.split(":")
    if len(parts) == 1:
        return Mount(parts[0], "anonymous", None, False)
    if len(parts) > 3:
        raise ValueError(f"not a volume mount: {text!r} (source:target[:mode])")
    source, target = parts[0], parts[1]
    modes = parts[2].split(",") if len(parts) == 3 else []
    kind: MountKind = "bind" if source.startswith(BIND_PREFIXES) else "volume"
    return Mount(target, kind, source, "ro" in modes)


def _long(item: LinedDict) -> Mount:
    target = item.get("target")
    if not isinstance(target, str) or not target:
        raise ValueError("a long-syntax volume needs a target")
    kind = item.get("type", "volume")
    source = item.get("source")
    read_only = item.get("read_only", False)
    if not isinstance(read_only, bool):
        raise ValueError(f"read_only: expected true or false, got {read_only!r}")
    if kind == "volume" and not source:
        return Mount(target, "anonymous", None, read_only)
    known: MountKind = kind if kind in ("volume", "bind", "tmpfs") else "other"
    return Mount(target, known, None if source is None else str(source), read_only)
