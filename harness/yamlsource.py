"""YAML loading that remembers where every key and item came from.

Every error about a user's file must name its file and line, so mappings load as ``LinedDict`` and
sequences as ``LinedList``: plain ``dict``/``list`` subclasses that also record the 1-based line of
each key or item. Anchors and ``<<`` merge keys resolve as in PyYAML's safe loader (a merged key
reports the line where it was written, inside the anchor).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from harness.errors import InputError


class LinedDict(dict[str, Any]):
    """A mapping that knows the source file and the line of each of its keys."""

    path: str = "<string>"
    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LinedList(list[Any]):
    """A sequence that knows the source file and the line of each of its items."""

    path: str = "<string>"
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


# libyaml's parser when PyYAML was built with it: the same nodes and marks, several times faster.
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LinedLoader(_BaseLoader):
    """SafeLoader whose containers carry line numbers."""

    source_path = "<string>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LinedDict:  # type: ignore[override]
        self.flatten_mapping(node)  # resolves << merge keys into node.value
        result = LinedDict()
        result.path, result.line, result.key_lines = self.source_path, _line(node), {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise InputError(self.source_path, _line(key_node), "mapping key must be a scalar")
            key = str(key)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = _line(key_node)
        return result

    def construct_lined_sequence(self, node: yaml.SequenceNode) -> LinedList:
        result = LinedList(self.construct_object(child, deep=True) for child in node.value)
        result.path, result.line = self.source_path, _line(node)
        result.item_lines = [_line(child) for child in node.value]
        return result


_LinedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LinedLoader.construct_mapping)
_LinedLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LinedLoader.construct_lined_sequence
)


def load_text(text: str, path: str = "<string>") -> Any:
    """Parse YAML text; syntax errors become ``InputError`` naming file:line:column."""
    loader = _LinedLoader(text)
    loader.source_path = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise InputError(path, line, f"invalid YAML: {exc.problem or exc.context}", column) from exc
    except yaml.YAMLError as exc:
        raise InputError(path, None, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def load_file(path: str | Path) -> Any:
    """Read and parse a YAML file; an unreadable file is an ``InputError`` too."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(name, None, "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, None, f"cannot read: {exc}") from exc
    return load_text(text, name)
