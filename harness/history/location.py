"""Where the history lives: a file path, or a ``sqlite:///`` URL naming one (SQLAlchemy's form)."""

from __future__ import annotations

DEFAULT_HISTORY = "reports/history/history.sqlite"
SQLITE_URL = "sqlite:///"


def history_path(text: str) -> str | None:
    """The file ``text`` names, or None when it is neither a path nor a ``sqlite:///`` URL.

    ``sqlite:///reports/h.sqlite`` is relative to the working folder, ``sqlite:////var/h.sqlite``
    absolute, as SQLAlchemy reads them; any other scheme (``postgresql://``) is not ours to open.
    """
    if text.startswith(SQLITE_URL):
        path = text[len(SQLITE_URL) :]
        return path if path and "?" not in path else None
    if "://" in text or not text.strip():
        return None
    return text
