from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.yamlsource import LinedDict, LinedList, load_file, load_text


def test_keys_and_items_remember_their_lines() -> None:
    data = load_text("a: 1\nb:\n  - x\n  - y\nc:\n  d: 2\n", "f.yml")
    assert isinstance(data, LinedDict) and data.path == "f.yml"
    assert [data.line_of(k) for k in ("a", "b", "c")] == [1, 2, 5]
    assert isinstance(data["b"], LinedList) and data["b"].item_lines == [3, 4]
    assert data["c"].line_of("d") == 6


def test_merge_keys_resolve_and_local_keys_win() -> None:
    data = load_text("base: &b {p: 1, q: 2}\nuse:\n  <<: *b\n  q: 3\n")
    assert data["use"] == {"p": 1, "q": 3}
    assert data["use"].line_of("q") == 4


def test_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(
        InputError, match=r"^bad\.yml:3:1: invalid YAML: (did not find )?expected .,. or .\]."
    ):
        load_text("a: 1\nb: [1\n", "bad.yml")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_file(tmp_path / "absent.yml")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("10500:22", "10500:22"),  # YAML 1.1: base 60, 630022
        ("1:30", "1:30"),
        ("no", "no"),  # YAML 1.1: False
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("0o17", 15),  # YAML 1.1: a string
        ("017", 17),  # YAML 1.1: octal, 15
        ("-017", -17),
        ("+12", 12),
        ("0x1F", 31),
        ("1_000", "1_000"),  # YAML 1.1: 1000
        ("0b101", "0b101"),  # YAML 1.1: 5
        ("1e3", 1000.0),  # YAML 1.1: a string
        ("1.5", 1.5),
        ("-.inf", float("-inf")),
        ("2001-12-14", "2001-12-14"),  # YAML 1.1: a date
        ("~", None),
        ("null", None),
        ("", None),
        ("=", "="),  # YAML 1.1: the value key
    ],
)
def test_plain_scalars_read_as_yaml_1_2_core_schema(written: str, read: object) -> None:
    assert load_text(f"v: {written}\n")["v"] == read
    assert type(load_text(f"v: {written}\n")["v"]) is type(read)


def test_keys_read_as_yaml_1_2_too() -> None:
    assert list(load_text("on: 1\nno: 2\n")) == ["on", "no"]  # YAML 1.1: 'True', 'False'


def test_explicit_tags_follow_yaml_1_2() -> None:
    assert load_text("v: !!int 017\n")["v"] == 17
    assert load_text("v: !!float 3\n")["v"] == 3.0
    assert load_text("v: !!str 017\n")["v"] == "017"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("a: 1\nv: !!int 1_000\n", r"^t\.yml:2: not a YAML 1\.2 integer: '1_000'$"),
        ("v: !!int abc\n", r"^t\.yml:1: not a YAML 1\.2 integer: 'abc'$"),
        ("v: !!float 1_0.5\n", r"^t\.yml:1: not a YAML 1\.2 float: '1_0\.5'$"),
        ("v: !!bool yes\n", r"^t\.yml:1: not a YAML 1\.2 boolean: 'yes'$"),
        (
            "v: !!timestamp foo\n",
            r"^t\.yml:1: tag:yaml\.org,2002:timestamp is not a YAML 1\.2 core schema tag$",
        ),
    ],
)
def test_an_explicit_tag_on_a_value_it_cannot_read_is_refused(document: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_text(document, "t.yml")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", r"^t\.yml:3: duplicate key 'a' \(first at line 1\)$"),
        ("s:\n  x:\n    p: 1\n\n    p: 2\n", r"^t\.yml:5: duplicate key 'p' \(first at line 3\)$"),
        ("s: {q: 1, q: 1}\n", r"^t\.yml:1: duplicate key 'q' \(first at line 1\)$"),
        ('1: a\n"1": b\n', r"^t\.yml:2: duplicate key '1' \(first at line 1\)$"),  # one key once read
        ("- a: 1\n  a: 2\n", r"^t\.yml:2: duplicate key 'a' \(first at line 1\)$"),
        (  # inside an anchor that is only ever merged
            "x-b: &b\n  p: 1\n  p: 2\nuse:\n  <<: *b\n",
            r"^t\.yml:3: duplicate key 'p' \(first at line 2\)$",
        ),
        ("use:\n  <<: {p: 1,\n    p: 2}\n", r"^t\.yml:3: duplicate key 'p' \(first at line 2\)$"),
        (
            "a: &a {p: 1}\nb: &b {q: 1}\nuse:\n  <<: *a\n  <<: *b\n",
            r"^t\.yml:5: duplicate key '<<' \(first at line 4\)$",
        ),
        (  # the override of a merged key is legal, not a second write of it
            "base: &b {p: 1}\nuse:\n  <<: *b\n  p: 2\n  p: 3\n",
            r"^t\.yml:5: duplicate key 'p' \(first at line 4\)$",
        ),
    ],
)
def test_a_key_written_twice_in_one_mapping_names_both_lines(document: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_text(document, "t.yml")


def test_merged_keys_overridden_by_written_ones_are_not_duplicates() -> None:
    document = (
        "x-a: &a {p: 1, q: 1}\n"
        "x-b: &b {q: 2, r: 2}\n"
        "x-c: &c {<<: *a, p: 3}\n"  # c overrides a key it merged
        "use:\n"
        "  <<: [*c, *b]\n"  # the earlier mapping wins, as in YAML's merge
        "  r: 4\n"
        "again: {<<: *c, q: 5}\n"  # c merged a second time, already flattened
    )
    data = load_text(document)
    assert data["use"] == {"p": 3, "q": 1, "r": 4}
    assert data["again"] == {"p": 3, "q": 5}
    assert data["use"].line_of("r") == 6 and data["use"].line_of("p") == 3


@pytest.mark.parametrize(
    ("document", "line"),
    [("a: 1\nuse:\n  <<: 1\n", 3), ("a: &a {p: 1}\nuse:\n  <<: [*a,\n    2]\n", 4)],
)
def test_a_merge_of_anything_but_mappings_names_its_line(document: str, line: int) -> None:
    with pytest.raises(InputError, match=rf"^t\.yml:{line}: << merges a mapping or a list of mappings only$"):
        load_text(document, "t.yml")
