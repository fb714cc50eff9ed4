"""Report files: written atomically (a reader never sees half a file), and a failed write is one line.

An ``OSError`` (a path that is a file where a folder is needed, no permission, a full disk) becomes an
``InputError`` naming the path: the reports' location is the user's to choose.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from harness.errors import InputError


def _cannot_write(path: Path, exc: OSError) -> InputError:
    return InputError(str(path), None, f"cannot write: {exc.strerror or exc}")


def prepare_directory(path: Path) -> None:
    """Create ``path`` if needed; a path that cannot be a folder of reports is an ``InputError``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def write_atomic(path: Path, content: str | bytes) -> None:
    prepare_directory(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from exc
