"""verdicts.json: ``{"verdicts": [...], "exit_code": N}``, written atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from harness.reports.files import write_atomic
from harness.reports.shape import verdict_json
from harness.verdict import Verdict, exit_code


def render_verdicts_json(verdicts: Sequence[Verdict], complete: bool = True) -> str:
    document = {"verdicts": [verdict_json(v) for v in verdicts], "exit_code": exit_code(verdicts, complete)}
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def write_verdicts_json(path: Path, verdicts: Sequence[Verdict], complete: bool = True) -> None:
    write_atomic(path, render_verdicts_json(verdicts, complete))
