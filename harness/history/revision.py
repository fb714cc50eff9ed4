"""The git revision of the stack under test: ``git rev-parse HEAD`` of its first compose file's folder."""

from __future__ import annotations

import subprocess
from pathlib import Path


def stack_revision(compose_file: Path) -> str:
    """The commit checked out where the compose file lives; empty when that is no git work tree (or
    git is missing): the history then simply cannot say which revision a run measured."""
    try:
        answer = subprocess.run(
            ["git", "-C", str(compose_file.resolve().parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return answer.stdout.strip() if answer.returncode == 0 else ""
