"""The end-of-run summary for the terminal: one line per verdict, failures and errors with their reason."""

from __future__ import annotations

from collections.abc import Sequence

from harness.catalogue.model import Catalogue
from harness.reports.shape import measured_json
from harness.scoring import Score, result_text, score_run, scored_exit_code, tally_text
from harness.verdict import Verdict, exit_code

_MARK = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR", "skipped": "SKIP "}
_MEANING = {0: "every gate SLA passed", 1: "an SLA failed", 2: "could not measure every gate SLA"}
_SCORED_MEANING = {1: "the total score failed", 2: "nothing could be scored"}


def _measured(verdict: Verdict) -> str:
    value = measured_json(verdict.measured)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return f"{len(value)} figures"
    return "-" if value is None else str(value)


def score_line(score: Score) -> str:
    """``score 87.5% (7 of 8): warning (pass 90%, warning 75%, gates the exit code); by scenario: ...``"""
    scenarios = ", ".join(f"{name} {tally_text(score.tally(name))}" for name in score.scenarios())
    return f"score {tally_text(score.tally())}: {result_text(score)}; by scenario: {scenarios}"


def render_summary(verdicts: Sequence[Verdict], width: int = 110, catalogue: Catalogue | None = None) -> str:
    lines = []
    for v in verdicts:
        head = f"{_MARK[v.status]} {v.id} [{v.scenario}/{v.window}] rule {v.rule}"
        if v.severity == "warn":
            head += " (warn)"
        lines.append(f"{head}: {_measured(v)} vs {v.threshold}"[:width])
        if v.status in ("fail", "error"):
            lines.append(f"       {v.reason}"[: width * 3])
    counts = {s: sum(v.status == s for v in verdicts) for s in _MARK}
    score = score_run(verdicts, catalogue) if catalogue else None
    if score:
        lines.append(score_line(score)[: width * 3])
    code = exit_code(verdicts)
    scored = scored_exit_code(code, score)
    meaning = _MEANING[code] if scored == code else _SCORED_MEANING[scored]
    lines.append(
        f"{len(verdicts)} verdicts: {counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors, "
        f"{counts['skipped']} skipped; exit {scored} ({meaning})"
    )
    return "\n".join(lines)
