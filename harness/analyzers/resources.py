"""What the resource-budget analyzers share: per-group range series, peaks, counter rises, OOM events.

Rules 1.1, 1.3, 4.1, 8.2 and 12.1 are judged from gauges sampled at every scrape over the window (a
budget must hold at each scrape, not on average) and from counters whose rises are events (an OOM kill,
an eviction). The container series are the container exporter's, with cAdvisor's names and labels: a
docker label becomes ``container_label_<key>``, so the compose service is
``container_label_com_docker_compose_service``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from harness.analyzers.base import AnalysisContext, Recorder, conclude, selector
from harness.metrics.port import Labels, Sample
from harness.metrics.resolution import scrape_guard
from harness.verdict import Check, Finding
from harness.windows import Window

COMPOSE_SERVICE = "container_label_com_docker_compose_service"
"""cAdvisor's label for a container's compose service (the docker label com.docker.compose.service)."""
OOM_EVENTS = "container_oom_events_total"

Grouped = dict[Labels, tuple[Sample, ...]]


def vector(metric: str, *matchers: str) -> str:
    """``metric{matchers}``, without braces when there is no matcher."""
    inner = selector(*matchers)
    return f"{metric}{{{inner}}}" if inner else metric


def grouped(recorder: Recorder, context: AnalysisContext, query: str, by: Sequence[str]) -> Grouped:
    """The finite samples of a range query over the objective's window, per group of ``by``."""
    answer = recorder.range(query, context.window, context.step)
    return {s.key(by): s.finite() for s in answer if s.finite()}


def resolution_check(context: AnalysisContext, timing: float | None = None) -> Check | None:
    """An ``error`` check when the window holds too few scrapes to judge a budget at every scrape (or the
    scrape interval is coarser than ``timing``)."""
    reason = scrape_guard(context.window, context.scrape_interval, context.min_scrapes, timing)
    return Check("resolution", "error", reason) if reason else None


def missing_check(query: str, window: Window, hint: str = "") -> Check:
    detail = f"no series for {query} in window '{window.name}'" + (f": {hint}" if hint else "")
    return Check("data", "error", detail)


def unjudged(recorder: Recorder, context: AnalysisContext, threshold: str, checks: list[Check]) -> Finding:
    """The finding when the window cannot be judged: ``checks`` say why, the evidence names the queries
    asked so far and no figure."""
    return conclude(checks, threshold, recorder.evidence(context, []), "")


def range_data(
    recorder: Recorder,
    context: AnalysisContext,
    threshold: str,
    queries: Mapping[str, str],
    by: Sequence[str],
    required: Sequence[str] = (),
    hint: str = "",
    timing: float | None = None,
) -> dict[str, Grouped] | Finding:
    """Each query's samples per group of ``by`` (see ``grouped``), or the ``error`` finding that says why
    they cannot be judged: too few scrapes in the window (``resolution_check``, asking nothing), or no
    series for a ``required`` query (``missing_check`` with ``hint``)."""
    guard = resolution_check(context, timing)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    data = {name: grouped(recorder, context, query, by) for name, query in queries.items()}
    absent = [missing_check(queries[name], context.window, hint) for name in required if not data[name]]
    return unjudged(recorder, context, threshold, absent) if absent else data


def peak(samples: Sequence[Sample]) -> Sample:
    """The highest sample (the earliest of equal ones)."""
    return max(samples, key=lambda s: (s.value, -s.t))


def rises(samples: Sequence[Sample]) -> list[Sample]:
    """When a counter grew between consecutive samples, and by how much; a drop is a reset (the
    process restarted), so the new value is growth from zero."""
    out = []
    for previous, current in itertools.pairwise(samples):
        grown = current.value - previous.value if current.value >= previous.value else current.value
        if grown > 0:
            out.append(Sample(current.t, grown))
    return out


def when(t: float, window: Window) -> str:
    """An instant for a reader: seconds into the window and the UTC clock time."""
    clock = datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")
    return f"{t - window.start:.0f} s into '{window.name}' ({clock} UTC)"


def oom_check(name: str, samples: Sequence[Sample], window: Window, metric: str = OOM_EVENTS) -> Check:
    """Fail when the OOM-event counter rose in the window, naming when; error when it was not exported."""
    if not samples:
        return Check(f"{name} oom", "error", f"no {metric}: cannot tell whether it was OOM-killed")
    events = rises(samples)
    if not events:
        return Check(f"{name} oom", "pass", "no OOM event")
    total = sum(e.value for e in events)
    times = ", ".join(when(e.t, window) for e in events[:3])
    return Check(f"{name} oom", "fail", f"{total:g} OOM event(s), at {times}")


def mib(value: float) -> str:
    """Bytes as MiB for a reader (the reference stack's limits are MiB)."""
    return f"{value / 1024**2:.1f} MiB"


def at_most(name: str, samples: Sequence[Sample], bound: float, window: Window, what: str) -> Check:
    """Pass when ``what`` (a gauge's samples) stays at or under ``bound`` at every scrape; fail naming the
    peak and when; error when there is no sample."""
    if not samples:
        return Check(name, "error", f"no {what} in window '{window.name}'")
    top = peak(samples)
    if top.value <= bound:
        return Check(name, "pass", f"{what} at most {top.value:g} (limit {bound:g})")
    return Check(name, "fail", f"{what} {top.value:g} at {when(top.t, window)}, above {bound:g}")
