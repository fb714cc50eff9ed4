"""YAML loading that remembers where every key and item came from, with Compose's meanings and bounds.

Every error about a user's file must name its file and line, so mappings load as ``LinedDict`` and
sequences as ``LinedList``: plain ``dict``/``list`` subclasses that also record the 1-based line of
each key or item. Anchors and ``<<`` merge keys resolve as YAML and Compose define them (a written key
wins over a merged one, an earlier merged mapping over a later one); a merged key reports the line
where it was written, inside the anchor.

Compose reads YAML 1.2 and refuses what it cannot read safely; so does this module:
- scalars resolve by the YAML 1.2 core schema, as Compose's parser does: ``10500:22`` is a string,
  not a base-60 integer; ``yes``/``no``/``on``/``off`` are strings; ``017`` is 17, ``0o17`` is 15;
  ``1_000`` and dates are strings;
- a file is read up to ``MAX_BYTES`` (``/dev/zero`` ends at once);
- aliases may add at most ``MAX_ALIAS_NODES`` nodes to the document (an alias "bomb" of a few
  hundred bytes would otherwise expand to billions), and nesting is at most ``MAX_DEPTH`` deep;
- a key written twice in one mapping is refused, naming both lines (a key from a ``<<`` merge that
  the mapping overrides is not a duplicate).

PyYAML's libyaml parser stays underneath (the lint is timed against Compose); only the composer,
which sees aliases with their lines, runs in Python.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from harness.errors import InputError

MAX_BYTES = 8 * 1024 * 1024
"""Larger files are refused unread: a compose file or a catalogue is a few hundred kilobytes."""
MAX_ALIAS_NODES = 1_000_000
"""Nodes aliases may add. Real files add thousands. Compose's go-yaml refuses aliases making over 99%
of a document's first 400,000 nodes (10% of 4,000,000): about 400,000 in a small file, 1.2M at most."""
MAX_DEPTH = 100
"""Nesting deeper than this is refused: real files nest under 20, and every reader here recurses."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


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


def _event_line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark else None


if TYPE_CHECKING or not hasattr(yaml, "CSafeLoader"):
    _BaseLoader = yaml.SafeLoader
else:

    class _BaseLoader(yaml.composer.Composer, yaml.CSafeLoader):
        """libyaml's parser (the same events and marks, several times faster) under PyYAML's Python
        composer: libyaml's own composer hides where an alias was written."""

        def __init__(self, stream: str) -> None:
            yaml.composer.Composer.__init__(self)
            yaml.CSafeLoader.__init__(self, stream)


class _LinedLoader(_BaseLoader):
    """SafeLoader with YAML 1.2 core scalars, bounded aliases and depth, lined containers, unique keys."""

    source_path = "<string>"
    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text)
        self.source_path = path
        self._written = 0  # nodes as written
        self._aliased = 0  # nodes added by expanding aliases
        self._depth = 0
        self._sizes: dict[str | None, int] = {}  # anchor -> nodes its node expands to
        self._flattened: set[yaml.MappingNode] = set()

    def _refuse(self, line: int | None, message: str) -> InputError:
        return InputError(self.source_path, line, message)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            return self._compose_alias(event, parent, index)
        if self._depth >= MAX_DEPTH:
            raise self._refuse(_event_line(event), f"nested deeper than {MAX_DEPTH} levels")
        before = self._written + self._aliased
        self._depth += 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._written += 1
        if event.anchor is not None:
            self._sizes[event.anchor] = self._written + self._aliased - before
        return node

    def _compose_alias(
        self, event: yaml.AliasEvent, parent: yaml.Node | None, index: Any
    ) -> yaml.Node | None:
        node = super().compose_node(parent, index)  # refuses an undefined alias
        size = self._sizes.get(event.anchor)
        if size is None:  # defined, but still being composed
            raise self._refuse(_event_line(event), f"alias *{event.anchor} is inside the node it names")
        self._aliased += size
        if self._aliased > MAX_ALIAS_NODES:
            raise self._refuse(
                _event_line(event),
                f"excessive aliasing: with *{event.anchor}, aliases add more than {MAX_ALIAS_NODES} nodes",
            )
        return node

    def _key(self, key_node: yaml.Node) -> str:
        key = self.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise self._refuse(_line(key_node), "mapping key must be a scalar")
        return str(key)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Resolve ``<<`` into node.value: merged pairs (an earlier source wins), then written ones.

        Merging rewrites node.value, so a node is checked and flattened once, before its first merge.
        Not PyYAML's: PyYAML 6.0.4 keeps the first of two merged keys by the ``id`` of their text, so
        a key a merged mapping overrides, or any key short enough for CPython to intern, reads wrong.
        """
        if node in self._flattened:
            return
        self._flattened.add(node)
        self._refuse_duplicates(node)
        merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        written = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                written.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self._refuse(_line(source), "<< merges a mapping or a list of mappings only")
                self.flatten_mapping(source)
                for pair in source.value:
                    merged.setdefault(self._key(pair[0]), pair)
        if merged:  # one pair per key, written ones winning, in the order a dict built pair by pair has
            pairs = dict(merged)
            pairs.update((self._key(pair[0]), pair) for pair in written)
            node.value = list(pairs.values())

    def _refuse_duplicates(self, node: yaml.MappingNode) -> None:
        if len({key.value for key, _ in node.value if key.tag == _STR_TAG}) == len(node.value):
            return  # the common case: string keys, all different
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            key = "<<" if key_node.tag == _MERGE_TAG else self._key(key_node)
            if key in first:
                raise self._refuse(_line(key_node), f"duplicate key {key!r} (first at line {first[key]})")
            first[key] = _line(key_node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LinedDict:  # type: ignore[override]
        self.flatten_mapping(node)  # resolves << merge keys into node.value; explicit keys come last
        result = LinedDict()
        result.path, result.line, result.key_lines = self.source_path, _line(node), {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = _line(key_node)
        return result

    def construct_lined_sequence(self, node: yaml.SequenceNode) -> LinedList:
        result = LinedList(self.construct_object(child, deep=True) for child in node.value)
        result.path, result.line = self.source_path, _line(node)
        result.item_lines = [_line(child) for child in node.value]
        return result

    def _scalar(self, node: yaml.ScalarNode, pattern: re.Pattern[str], kind: str) -> str:
        text = str(self.construct_scalar(node))
        if not pattern.fullmatch(text):  # only an explicit tag (!!int 1_000) gets here unmatched
            raise self._refuse(_line(node), f"not a YAML 1.2 {kind}: {text!r}")
        return text

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        text = self._scalar(node, _INT, "integer")
        return int(text, {"0o": 8, "0x": 16}.get(text[:2], 10))

    def construct_core_float(self, node: yaml.ScalarNode) -> float:
        text = self._scalar(node, _FLOAT, "float").lower()
        if text.endswith((".inf", ".nan")):
            return float(text.replace(".", ""))
        return float(text)

    def construct_core_bool(self, node: yaml.ScalarNode) -> bool:
        text = str(self.construct_scalar(node))
        if text not in _BOOL:
            raise self._refuse(_line(node), f"not a YAML 1.2 boolean: {text!r}")
        return _BOOL[text]

    def construct_not_core(self, node: yaml.Node) -> NoReturn:
        raise self._refuse(_line(node), f"{node.tag} is not a YAML 1.2 core schema tag")


def _core_schema(loader: type[_LinedLoader]) -> None:
    """YAML 1.2 core schema resolvers (plus ``<<``, which Compose merges too) and their constructors."""
    resolve = loader.add_implicit_resolver
    resolve("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
    resolve("tag:yaml.org,2002:bool", re.compile(rf"^(?:{'|'.join(_BOOL)})$"), list("tTfF"))
    resolve("tag:yaml.org,2002:int", re.compile(rf"^(?:{_INT.pattern})$"), list("-+0123456789"))
    resolve("tag:yaml.org,2002:float", re.compile(rf"^(?:{_FLOAT.pattern})$"), list("-+.0123456789"))
    resolve(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])
    construct = loader.add_constructor
    construct("tag:yaml.org,2002:int", loader.construct_core_int)
    construct("tag:yaml.org,2002:float", loader.construct_core_float)
    construct("tag:yaml.org,2002:bool", loader.construct_core_bool)
    construct("tag:yaml.org,2002:timestamp", loader.construct_not_core)  # YAML 1.1's; a bad one crashed
    construct(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, loader.construct_mapping)
    construct(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, loader.construct_lined_sequence)


_core_schema(_LinedLoader)


def load_text(text: str, path: str = "<string>") -> Any:
    """Parse YAML text; syntax errors become ``InputError`` naming file:line:column."""
    loader = _LinedLoader(text, path)
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
    """Read (at most ``MAX_BYTES``) and parse a YAML file; an unreadable file is an ``InputError`` too."""
    name = str(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # one byte more tells "too large" from "exactly the cap"
        if len(data) > MAX_BYTES:
            raise InputError(name, None, f"larger than {MAX_BYTES // 2**20} MiB: not read")
        text = data.decode("utf-8")
    except FileNotFoundError as exc:
        raise InputError(name, None, "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, None, f"cannot read: {exc}") from exc
    return load_text(text, name)
