"""The history file: appended and read back; a foreign, corrupt or other-version file is refused by name
and never written."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from history_synth import DAY, T0, verdict

from harness.errors import InputError
from harness.history.store import RunInfo, check_history, open_for_append, open_history


def test_runs_and_figures_come_back_as_appended(tmp_path: Path) -> None:
    path = str(tmp_path / "deep" / "history.sqlite")
    store = open_for_append(path)  # creates the folders and the file
    store.append(RunInfo("r1", T0, "abc"), [verdict(1.0), verdict(None, "error", "other")], 2)
    store.append(RunInfo("r2", T0 + DAY), [verdict(float("nan"), "fail")], 1)
    store.close()
    store = open_history(path)
    runs = store.runs()
    assert [(r.info, r.exit_code, r.counts) for r in runs] == [
        (RunInfo("r1", T0, "abc"), 2, (("error", 1), ("pass", 1))),
        (RunInfo("r2", T0 + DAY, ""), 1, (("fail", 1),)),
    ]
    assert [r.info.run_id for r in store.runs(last=1)] == ["r2"]
    p99 = store.values("api-latency", "baseline", "p99")
    assert [(v.run.run_id, v.value, v.unit, v.status) for v in p99[:1]] == [("r1", 1.0, "s", "pass")]
    assert math.isnan(p99[1].value)  # NaN is kept as SQL NULL and read back as NaN
    assert {v.name for v in store.values("api-latency", run_id="r1")} == {
        "p99",
        "throughput_ratio",
        "measured",
    }
    assert store.objective_ids("r1") == ["api-latency", "other"]
    store.close()


def test_a_run_id_recorded_twice_is_refused_and_the_first_kept(tmp_path: Path) -> None:
    store = open_for_append(str(tmp_path / "h.sqlite"))
    store.append(RunInfo("r1", T0), [verdict(1.0)], 0)
    with pytest.raises(InputError, match="cannot record run r1: UNIQUE constraint failed"):
        store.append(RunInfo("r1", T0 + DAY), [verdict(2.0)], 1)
    assert [r.exit_code for r in store.runs()] == [0]
    store.close()


def _sqlite(path: Path, script: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(script)
    db.commit()
    db.close()


def _other_version(path: Path) -> None:
    open_for_append(str(path)).close()
    _sqlite(path, "UPDATE meta SET value = '2' WHERE key = 'schema_version'")


FOREIGN = [
    ("text", lambda p: p.write_text("not a database\n"), "not a harness history: not an SQLite database"),
    (
        "sqlite",
        lambda p: _sqlite(p, "CREATE TABLE t (x)"),
        "not a harness history: an SQLite database without",
    ),
    ("version", _other_version, "history schema version 2, but this harness reads version 1"),
]


@pytest.mark.parametrize(("make", "words"), [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_a_foreign_file_is_refused_by_name_and_never_written(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "history.sqlite"
    make(path)
    before = path.read_bytes()
    for opening in (open_history, open_for_append, check_history):
        with pytest.raises(InputError) as caught:
            opening(str(path))
        assert str(caught.value).startswith(f"{path}: {words}"), caught.value
    assert path.read_bytes() == before


def test_reading_never_creates_a_history(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    with pytest.raises(InputError, match="no such history file"):
        open_history(str(path))
    check_history(str(path))  # nothing to check yet: a first run creates it
    assert not path.exists()
    with pytest.raises(InputError, match="is not a file"):
        open_history(str(tmp_path))
