"""Rule 8.2, concurrent request limits: each service admits at most ``max_concurrent`` requests at once.

Per service (``by``, default the service label), at every scrape of the window:

1. the limit the service reports (``agent_concurrency_limit``) is the rule's; 0 means unlimited: fail;
2. the requests in flight (``agent_inflight_requests``) never exceed ``max_concurrent``.

What happened to the excess is reported, not judged: the peak of requests waiting for a slot
(``agent_concurrency_waiting``) and, with ``refused_metric``, the requests refused in the window. A
service that never filled its slots had no excess; the figures say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import peak, range_data, rises, vector, when
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Window


@dataclass(frozen=True, slots=True)
class ConcurrencyLimitParams:
    max_concurrent: int = 10
    selector: str = ""
    by: tuple[str, ...] | None = None
    inflight_metric: str = "agent_inflight_requests"
    limit_metric: str = "agent_concurrency_limit"
    waiting_metric: str = "agent_concurrency_waiting"
    refused_metric: str = ""

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent: must be at least 1")

    def queries(self, by: tuple[str, ...]) -> dict[str, str]:
        group = ", ".join(by)
        metrics = {
            "inflight": self.inflight_metric,
            "limit": self.limit_metric,
            "waiting": self.waiting_metric,
            "refused": self.refused_metric,
        }
        return {
            name: f"max by ({group}) ({vector(metric, self.selector)})"
            for name, metric in metrics.items()
            if metric
        }


def describe(p: ConcurrencyLimitParams) -> str:
    return f"each service reports a limit of {p.max_concurrent} concurrent requests and never exceeds it"


def run(context: AnalysisContext, params: ConcurrencyLimitParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    by = context.group_by(params.by)
    queries = params.queries(by)
    hint = "does the selector match the services?"
    data = range_data(recorder, context, threshold, queries, by, ("inflight",), hint)
    if isinstance(data, Finding):
        return data
    checks: list[Check] = []
    figures: list[Figure] = []
    for key in sorted(set(data["inflight"]) | set(data["limit"])):
        name = key_text(key)
        series = {what: data[what].get(key, ()) for what in data}
        checks.append(_limit_check(name, series["limit"], params, context.window))
        check, found = _inflight(name, series, params, context.window)
        checks.append(check)
        figures.extend(found)
    plot = recorder.range(queries["inflight"], context.window, context.step)
    return conclude(
        checks, threshold, recorder.evidence(context, figures, plot, params.max_concurrent), "no service"
    )


def _limit_check(name: str, limit: tuple[Sample, ...], p: ConcurrencyLimitParams, window: Window) -> Check:
    if not limit:
        return Check(f"{name} limit", "error", f"no {p.limit_metric}: the configured limit cannot be read")
    wrong = [s for s in limit if s.value != p.max_concurrent]
    if not wrong:
        return Check(f"{name} limit", "pass", f"reports a limit of {p.max_concurrent}")
    shown = "0 (unlimited)" if wrong[0].value == 0 else f"{wrong[0].value:g}"
    return Check(
        f"{name} limit",
        "fail",
        f"reports a limit of {shown} at {when(wrong[0].t, window)}, the rule's is {p.max_concurrent}",
    )


def _inflight(
    name: str, series: dict[str, tuple[Sample, ...]], p: ConcurrencyLimitParams, window: Window
) -> tuple[Check, list[Figure]]:
    if not series["inflight"]:
        return Check(f"{name} in flight", "error", f"no {p.inflight_metric}"), []
    top = peak(series["inflight"])
    figures = [Figure(f"peak_inflight[{name}]", top.value)]
    excess = []
    if series.get("waiting"):
        waiting = peak(series["waiting"]).value
        figures.append(Figure(f"peak_waiting[{name}]", waiting))
        excess.append(f"up to {waiting:g} waiting")
    if series.get("refused"):
        refused = sum(s.value for s in rises(series["refused"]))
        figures.append(Figure(f"refused[{name}]", refused))
        excess.append(f"{refused:g} refused")
    elif p.refused_metric:
        excess.append(f"refusals unknown: no {p.refused_metric}")
    report = f" ({', '.join(excess)})" if excess else ""
    if top.value <= p.max_concurrent:
        return Check(f"{name} in flight", "pass", f"peak {top.value:g} in flight{report}"), figures
    detail = (
        f"{top.value:g} in flight at {when(top.t, window)}, above the limit of {p.max_concurrent}{report}"
    )
    return Check(f"{name} in flight", "fail", detail), figures


ANALYZER = AnalyzerSpec("concurrency_limit", ConcurrencyLimitParams, run, describe)
