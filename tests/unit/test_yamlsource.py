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
