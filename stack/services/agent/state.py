"""Agent state persisted as JSON (rule 6.2): written atomically, restored on start.

What survives a restart: the cumulative task counts, how many times the agent
started, and the async tasks still in the local publish buffer (RabbitMQ was
down), so that an accepted task is not lost by a restart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

VERSION = 1


class StateCorrupt(ValueError):
    """The state file exists but cannot be read back."""


@dataclasses.dataclass(frozen=True, slots=True)
class BufferedTask:
    task_id: str
    body: str  # the JSON message body, published as-is
    priority: int
    headers: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class AgentState:
    service: str
    saved_at: float
    starts: int = 0
    tasks_completed: int = 0
    tasks_failed: int = 0
    buffered: tuple[BufferedTask, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "service": self.service,
                "saved_at": self.saved_at,
                "starts": self.starts,
                "tasks_completed": self.tasks_completed,
                "tasks_failed": self.tasks_failed,
                "buffered": [
                    {"task_id": b.task_id, "body": b.body, "priority": b.priority, "headers": dict(b.headers)}
                    for b in self.buffered
                ],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> AgentState:
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict) or raw.get("version") != VERSION:
                raise StateCorrupt(
                    f"unknown state version {raw.get('version') if isinstance(raw, dict) else raw!r}"
                )
            return cls(
                service=str(raw["service"]),
                saved_at=float(raw["saved_at"]),
                starts=int(raw["starts"]),
                tasks_completed=int(raw["tasks_completed"]),
                tasks_failed=int(raw["tasks_failed"]),
                buffered=tuple(
                    BufferedTask(
                        task_id=str(b["task_id"]),
                        body=str(b["body"]),
                        priority=int(b["priority"]),
                        headers=tuple((str(k), str(v)) for k, v in dict(b["headers"]).items()),
                    )
                    for b in raw["buffered"]
                ),
            )
        except StateCorrupt:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise StateCorrupt(f"unreadable state: {exc}") from exc


def state_path(state_dir: str, service: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in service)
    return Path(state_dir) / f"{safe}.state.json"


def save_state(path: Path, state: AgentState) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(state.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_state(path: Path) -> AgentState | None:
    """The saved state, None when there is none; StateCorrupt when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateCorrupt(f"cannot read {path}: {exc}") from exc
    return AgentState.from_json(text)
