"""``python -m harness clean`` run as a user runs it after a crash, for the fault tests' throwaway stacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def harness_clean(
    slas: Path, env: dict[str, str], fixture: Path, project: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """Clean ``project`` (its compose file ``fixture``) with the catalogue ``slas``; no fault proxy."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "harness", "clean", "--stack", str(fixture), "--project-name", project),
            *("--slas", str(slas), "--no-proxy", *options),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
