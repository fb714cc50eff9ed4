"""Rule 7.1, metrics exposure: every required metric name is present on every service target.

Targets are the ``up`` series matching ``selector`` (by service label and instance), evaluated at the end of the
window. A histogram counts as present through its ``_bucket``, ``_count`` or ``_sum`` series. A target
Prometheus cannot scrape (``up == 0``) does not expose its metrics: that is a fail, not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text, selector
from harness.metrics.port import Labels
from harness.verdict import Check, Figure, Finding

RULE_7_1 = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "http_requests_total",
    "http_request_duration_seconds",
    "agent_tasks_completed_total",
    "agent_tasks_failed_total",
)
_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass(frozen=True, slots=True)
class RequiredMetricsParams:
    names: tuple[str, ...] = RULE_7_1
    selector: str = 'job=~".+"'
    by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        bad = [n for n in self.names if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", n)]
        if bad:
            raise ValueError(f"names: not a metric name: {bad[0]!r}")


def describe(p: RequiredMetricsParams) -> str:
    return f"every target exposes {len(p.names)} metrics: {', '.join(p.names)}"


def _base_name(name: str, wanted: set[str]) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in wanted:
            return name[: -len(suffix)]
    return name


def run(context: AnalysisContext, params: RequiredMetricsParams) -> Finding:
    recorder = Recorder(context.source)
    group_by = context.group_by(params.by, "instance")
    at, by = context.window.end, ", ".join(group_by)
    alternatives = "|".join(re.escape(n) for n in params.names)
    targets = {s.key(group_by): s.samples[0].value for s in recorder.instant(f"up{{{params.selector}}}", at)}
    name_matcher = '__name__=~"(' + alternatives + ")(" + "|".join(_SUFFIXES) + ')?"'
    names_query = f"group by ({by}, __name__) ({{{selector(name_matcher, params.selector)}}})"
    wanted = set(params.names)
    present: dict[Labels, set[str]] = {}
    for series in recorder.instant(names_query, at):
        name = dict(series.labels).get("__name__") or ""
        present.setdefault(series.key(group_by), set()).add(_base_name(name, wanted))
    checks, figures = [], []
    for key, up in sorted(targets.items()):
        target = key_text(key)
        missing = [n for n in params.names if n not in present.get(key, set())]
        figures.append(Figure(f"missing[{target}]", len(missing)))
        if up != 1:
            checks.append(Check(target, "fail", "target down: Prometheus cannot scrape its /metrics"))
        elif missing:
            checks.append(
                Check(target, "fail", f"missing {len(missing)} of {len(params.names)}: {', '.join(missing)}")
            )
        else:
            checks.append(Check(target, "pass", f"all {len(params.names)} present"))
    return conclude(
        checks,
        describe(params),
        recorder.evidence(context, figures),
        f"no target matches up{{{params.selector}}} at the end of window '{context.window.name}'",
    )


ANALYZER = AnalyzerSpec("required_metrics", RequiredMetricsParams, run, describe)
