"""The end-of-run summary for the terminal: one line per verdict, failures and errors with their reason."""

from __future__ import annotations

from collections.abc import Sequence

from harness.reports.shape import measured_json
from harness.verdict import Verdict, exit_code

_MARK = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR", "skipped": "SKIP "}
_MEANING = {0: "every gate SLA passed", 1: "an SLA failed", 2: "could not measure every gate SLA"}


def _measured(verdict: Verdict) -> str:
    value = measured_json(verdict.measured)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return f"{len(value)} figures"
    return "-" if value is None else str(value)


def render_summary(verdicts: Sequence[Verdict], width: int = 110) -> str:
    lines = []
    for v in verdicts:
        head = f"{_MARK[v.status]} {v.id} [{v.scenario}/{v.window}] rule {v.rule}"
        if v.severity == "warn":
            head += " (warn)"
        lines.append(f"{head}: {_measured(v)} vs {v.threshold}"[:width])
        if v.status in ("fail", "error"):
            lines.append(f"       {v.reason}"[: width * 3])
    counts = {s: sum(v.status == s for v in verdicts) for s in _MARK}
    code = exit_code(verdicts)
    lines.append(
        f"{len(verdicts)} verdicts: {counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors, "
        f"{counts['skipped']} skipped; exit {code} ({_MEANING[code]})"
    )
    return "\n".join(lines)
