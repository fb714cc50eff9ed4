"""verdicts.json: ``{"verdicts": [...], "exit_code": N, "score": {...} | null}``, written atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from harness.reports.files import write_atomic
from harness.reports.shape import JSON, verdict_json
from harness.scoring import Score, scored_exit_code
from harness.verdict import Verdict, exit_code


def render_verdicts_json(
    verdicts: Sequence[Verdict], complete: bool = True, score: Score | None = None
) -> str:
    document = {
        "verdicts": [verdict_json(v) for v in verdicts],
        "exit_code": scored_exit_code(exit_code(verdicts, complete), score),
        "score": score_json(score),
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def score_json(score: Score | None) -> JSON:
    """The total score, its limits, each scenario's and each verdict's part; null without a catalogue."""
    if score is None:
        return None
    scenarios = {name: score.tally(name) for name in score.scenarios()}
    total = score.tally()
    return {
        "total": total.total,
        "result": score.result,
        "pass": score.limits.pass_,
        "warning": score.limits.warning,
        "gate": score.limits.gate,
        "achieved": total.achieved,
        "possible": total.possible,
        "scenarios": {
            n: {"total": t.total, "achieved": t.achieved, "possible": t.possible}
            for n, t in scenarios.items()
        },
        "parts": [
            {
                "id": p.id,
                "scenario": p.scenario,
                "window": p.window,
                "status": p.status,
                "weight": p.weight,
                "grade": p.grade,
                "score": p.score,
                "reason": p.reason,
            }
            for p in score.parts
        ],
    }


def write_verdicts_json(
    path: Path, verdicts: Sequence[Verdict], complete: bool = True, score: Score | None = None
) -> None:
    write_atomic(path, render_verdicts_json(verdicts, complete, score))
