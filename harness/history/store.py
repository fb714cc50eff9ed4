"""The history file: every run's verdicts and figures in one SQLite file, schema-versioned.

    meta      (key, value)                       format = chaos-sla-harness history, schema_version = 1
    runs      (run_id, time, revision, exit_code)
    verdicts  (run_id, objective, scenario, window_name, rule, severity, status, threshold)
    figures   (run_id, objective, scenario, window_name, name, value, unit)   value NULL for NaN

A file that is not SQLite, or SQLite without our ``meta`` (a foreign file), or another schema version,
is an ``InputError`` naming it and is never written: only a missing file is created, and atomically
(built beside it, then linked into place), so no reader ever meets a half-made history.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.errors import InputError
from harness.history.figures import verdict_figures
from harness.verdict import Verdict

FORMAT = "chaos-sla-harness history"
SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('format', '{FORMAT}'), ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, time REAL NOT NULL, revision TEXT NOT NULL, exit_code INTEGER NOT NULL);
CREATE TABLE verdicts (
    run_id TEXT NOT NULL REFERENCES runs (run_id), objective TEXT NOT NULL, scenario TEXT NOT NULL,
    window_name TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,
    threshold TEXT NOT NULL, PRIMARY KEY (run_id, objective, scenario, window_name));
CREATE TABLE figures (
    run_id TEXT NOT NULL, objective TEXT NOT NULL, scenario TEXT NOT NULL, window_name TEXT NOT NULL,
    name TEXT NOT NULL, value REAL, unit TEXT NOT NULL,
    PRIMARY KEY (run_id, objective, scenario, window_name, name),
    FOREIGN KEY (run_id, objective, scenario, window_name) REFERENCES verdicts);
CREATE INDEX figures_by_objective ON figures (objective, scenario, name);
"""
_TABLES = ("meta", "runs", "verdicts", "figures")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run's identity in the history; ``time`` orders runs (unix seconds)."""

    run_id: str
    time: float
    revision: str = ""


@dataclass(frozen=True, slots=True)
class RunSummary:
    info: RunInfo
    exit_code: int
    counts: tuple[tuple[str, int], ...]
    """Verdicts per status, e.g. ``(("fail", 1), ("pass", 12))``."""


@dataclass(frozen=True, slots=True)
class Value:
    """One figure of one objective in one run."""

    run: RunInfo
    objective: str
    scenario: str
    window: str
    name: str
    value: float
    unit: str
    status: str
    """The status of the verdict the figure belongs to."""


class HistoryStore:
    """An open, checked history file. Use ``open_history`` (reading) or ``open_for_append``."""

    def __init__(self, path: str, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    def close(self) -> None:
        self._db.close()

    def runs(self, last: int | None = None) -> list[RunSummary]:
        """The runs, oldest first; with ``last``, only the latest ``last``."""
        rows = self._query(
            "SELECT run_id, time, revision, exit_code FROM runs ORDER BY time DESC, run_id DESC LIMIT ?",
            (-1 if last is None else last,),
        )
        return [self._summary(RunInfo(r[0], r[1], r[2]), r[3]) for r in reversed(rows)]

    def run(self, run_id: str) -> RunSummary | None:
        rows = self._query("SELECT run_id, time, revision, exit_code FROM runs WHERE run_id = ?", (run_id,))
        return self._summary(RunInfo(rows[0][0], rows[0][1], rows[0][2]), rows[0][3]) if rows else None

    def _summary(self, info: RunInfo, code: int) -> RunSummary:
        counts = self._query(
            "SELECT status, count(*) FROM verdicts WHERE run_id = ? GROUP BY status ORDER BY status",
            (info.run_id,),
        )
        return RunSummary(info, code, tuple((s, n) for s, n in counts))

    def values(
        self,
        objective: str,
        scenario: str | None = None,
        name: str | None = None,
        run_id: str | None = None,
    ) -> list[Value]:
        """An objective's figures across runs, oldest first; optionally one scenario, figure or run."""
        rows = self._query(
            "SELECT r.run_id, r.time, r.revision, f.objective, f.scenario, f.window_name, f.name,"
            " f.value, f.unit, v.status FROM figures f JOIN runs r USING (run_id)"
            " JOIN verdicts v USING (run_id, objective, scenario, window_name)"
            " WHERE f.objective = :objective AND (:scenario IS NULL OR f.scenario = :scenario)"
            " AND (:name IS NULL OR f.name = :name) AND (:run IS NULL OR r.run_id = :run)"
            " ORDER BY r.time, r.run_id, f.scenario, f.name",
            {"objective": objective, "scenario": scenario, "name": name, "run": run_id},
        )
        return [
            Value(
                RunInfo(r[0], r[1], r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                math.nan if r[7] is None else r[7],
                r[8],
                r[9],
            )
            for r in rows
        ]

    def objective_ids(self, run_id: str | None = None) -> list[str]:
        """The objectives (and regression verdicts) recorded, in one run or in any."""
        rows = self._query(
            "SELECT DISTINCT objective FROM verdicts WHERE :run IS NULL OR run_id = :run ORDER BY objective",
            {"run": run_id},
        )
        return [r[0] for r in rows]

    def append(self, run: RunInfo, verdicts: Sequence[Verdict], exit_code: int) -> None:
        """Add one run, all or nothing."""
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?)", (run.run_id, run.time, run.revision, exit_code)
                )
                for v in verdicts:
                    key = (run.run_id, v.id, v.scenario, v.window)
                    self._db.execute(
                        "INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (*key, v.rule, v.severity, v.status, v.threshold),
                    )
                    self._db.executemany(
                        "INSERT INTO figures VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            (*key, f.name, f.value if math.isfinite(f.value) else None, f.unit)
                            for f in verdict_figures(v)
                        ],
                    )
        except sqlite3.IntegrityError as exc:
            raise InputError(self.path, None, f"cannot record run {run.run_id}: {exc}") from exc
        except sqlite3.Error as exc:
            raise InputError(self.path, None, f"cannot write: {exc}") from exc

    def _query(self, sql: str, parameters: tuple[object, ...] | dict[str, object]) -> list[Any]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise InputError(self.path, None, f"cannot read the history: {exc}") from exc


def open_history(path: str) -> HistoryStore:
    """An existing history, read-only: a missing file is an ``InputError`` (nothing recorded there)."""
    if not Path(path).is_file():
        what = "is not a file" if Path(path).exists() else "no such history file (no run recorded there yet)"
        raise InputError(path, None, what)
    return _checked(path, _connect(path, read_only=True))


def check_history(path: str) -> None:
    """An ``InputError`` now, before a run or a judge starts, if ``path`` exists and is not our history."""
    if Path(path).exists():
        open_history(path).close()


@contextlib.contextmanager
def reading(path: str) -> Iterator[HistoryStore]:
    store = open_history(path)
    try:
        yield store
    finally:
        store.close()


def open_for_append(path: str) -> HistoryStore:
    """The history at ``path``, created (with its folder) when missing; an existing file must be ours."""
    target = Path(path)
    if not target.exists():
        _create(target)
    if not target.is_file():
        raise InputError(path, None, "is not a file")
    return _checked(path, _connect(path, read_only=False))


def _connect(path: str, read_only: bool) -> sqlite3.Connection:
    mode = "ro" if read_only else "rw"  # never "rwc": only _create makes a file
    try:
        return sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode={mode}", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise InputError(path, None, f"cannot open: {exc}") from exc


def _checked(path: str, db: sqlite3.Connection) -> HistoryStore:
    """``db`` if it is a history of our schema version; else closed, and an InputError naming why."""
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
    except sqlite3.DatabaseError as exc:
        db.close()
        raise InputError(path, None, f"not a harness history: not an SQLite database ({exc})") from exc
    problem = None
    if meta.get("format") != FORMAT or not tables.issuperset(_TABLES):
        problem = "not a harness history: an SQLite database without the history's meta and tables"
    elif meta.get("schema_version") != str(SCHEMA_VERSION):
        problem = (
            f"history schema version {meta.get('schema_version')!s}, but this harness reads version"
            f" {SCHEMA_VERSION}: keep it apart and start a new history (defaults.history or --history)"
        )
    if problem:
        db.close()
        raise InputError(path, None, problem)
    return HistoryStore(path, db)


def _create(target: Path) -> None:
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(temporary)) as db:
            db.executescript(_SCHEMA)
            db.commit()
        with contextlib.suppress(FileExistsError):  # another process made it first: check theirs
            os.link(temporary, target)
    except (OSError, sqlite3.Error) as exc:
        raise InputError(str(target), None, f"cannot create the history: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
