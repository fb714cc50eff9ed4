"""The faults in force, on disk: written before a fault is injected, removed once it is reverted.

After a crash or SIGKILL the file still lists what was in force, so ``python -m harness clean`` can revert
it. The file is rewritten whole through a temporary file and a rename, so a crash mid-write never leaves
half a journal; it is deleted when the last entry goes.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.faults.base import FaultError, FaultRecord

DEFAULT_JOURNAL = Path("reports/faults-in-force.json")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: str
    record: FaultRecord
    pid: int
    since: float
    """Wall-clock time the entry was written (unix seconds)."""


class Journal:
    def __init__(self, path: Path = DEFAULT_JOURNAL) -> None:
        self.path = Path(path)

    def entries(self) -> list[JournalEntry]:
        try:
            document = json.loads(self.path.read_text())
            return [
                JournalEntry(
                    item["id"], FaultRecord(**item["record"]), int(item["pid"]), float(item["since"])
                )
                for item in document["faults"]
            ]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FaultError(f"fault journal {self.path} cannot be read: {exc}") from exc

    def add(self, record: FaultRecord, pid: int, since: float) -> JournalEntry:
        entry = JournalEntry(uuid.uuid4().hex, record, pid, since)
        self._write([*self.entries(), entry])
        return entry

    def remove(self, entry: JournalEntry) -> None:
        self._write([e for e in self.entries() if e.id != entry.id])

    def _write(self, entries: list[JournalEntry]) -> None:
        try:
            if not entries:
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps({"faults": [asdict(e) for e in entries]}, indent=2) + "\n")
            temporary.replace(self.path)
        except OSError as exc:
            raise FaultError(f"fault journal {self.path} cannot be written: {exc}") from exc
