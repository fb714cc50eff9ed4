"""What a run has in force on its stack, on disk: faults (written before each is injected, removed once it
is reverted) and the load generator (written once it started, removed once it stopped).

After a crash or SIGKILL the file still lists them, so ``python -m harness clean`` and the next run's
start-up sweep can revert the faults and stop the load. One journal per stack project, in a fixed place
(``harness.state.journal_path``), so it is found wherever the crashed run wrote its reports. The file is
rewritten whole through a temporary file and a rename, so a crash mid-write never leaves half a journal;
it is deleted when the last entry goes.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.faults.base import FaultError, FaultRecord
from harness.load.process import LoadProcess


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: str
    record: FaultRecord
    pid: int
    since: float
    """Wall-clock time the entry was written (unix seconds)."""


@dataclass(frozen=True, slots=True)
class _Contents:
    faults: tuple[JournalEntry, ...] = ()
    loads: tuple[LoadProcess, ...] = ()


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def entries(self) -> list[JournalEntry]:
        return list(self._read().faults)

    def loads(self) -> list[LoadProcess]:
        return list(self._read().loads)

    def add(self, record: FaultRecord, pid: int, since: float) -> JournalEntry:
        entry = JournalEntry(uuid.uuid4().hex, record, pid, since)
        contents = self._read()
        self._write(_Contents((*contents.faults, entry), contents.loads))
        return entry

    def remove(self, entry: JournalEntry) -> None:
        contents = self._read()
        self._write(_Contents(tuple(e for e in contents.faults if e.id != entry.id), contents.loads))

    def add_load(self, process: LoadProcess) -> None:
        contents = self._read()
        self._write(_Contents(contents.faults, (*contents.loads, process)))

    def remove_load(self, process: LoadProcess) -> None:
        contents = self._read()
        self._write(_Contents(contents.faults, tuple(p for p in contents.loads if p != process)))

    def _read(self) -> _Contents:
        try:
            document: dict[str, Any] = json.loads(self.path.read_text())
            faults = tuple(
                JournalEntry(
                    item["id"], FaultRecord(**item["record"]), int(item["pid"]), float(item["since"])
                )
                for item in document["faults"]
            )
            return _Contents(faults, tuple(LoadProcess(**item) for item in document.get("loads", ())))
        except FileNotFoundError:
            return _Contents()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FaultError(f"fault journal {self.path} cannot be read: {exc}") from exc

    def _write(self, contents: _Contents) -> None:
        try:
            if not contents.faults and not contents.loads:
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(asdict(contents), indent=2) + "\n")
            temporary.replace(self.path)
        except OSError as exc:
            raise FaultError(f"fault journal {self.path} cannot be written: {exc}") from exc
