"""Rule 10.2, retries with exponential backoff: a failed operation is retried first after ``initial``
(1 s), each next retry ``multiplier`` (2) times later (2 s, 4 s), at most ``max_retries`` (3) times.

From the services' own histogram of each retry's interval (``metric``, the reference agents'
``agent_retry_interval_seconds{operation, retry}``: the measured time from the failure of an attempt to
the start of the retry after it, by the retry's number in its series, the fourth and later ones labelled
``4+``), per group (``by``, default the service label and ``operation_label``) that retried in the
objective's window, from the increases of its buckets over the window:

1. backoff: every retry n up to ``max_retries`` came ``initial * multiplier^(n-1)`` seconds after the
   failure before it, from ``early`` seconds sooner to ``late`` (a fraction) later: with the defaults
   0.9-1.5 s, 1.9-3 s, 3.9-6 s. An observation in a bucket outside that range fails (no wait lies in
   (0, 0.25], flat 1 s waits put retry 2 in (0.9, 1.5]); a bucket straddling an end of it cannot decide:
   error (choose bucket edges at the ends);
2. gives up: no retry numbered past ``max_retries`` (a series that went on retrying: fail). When no
   series of the group got as far as its last retry (they all succeeded sooner) the check is
   ``skipped``: giving up was not exercised.

No retry at all in the window (in any group): error, the fault did not reach background work, or the
services do not time their retries. The histogram is the services' own: Prometheus scrapes every second,
as coarse as the 1 s wait itself, so a retry's timing cannot be read from counts of connection attempts
scraped at the fault proxy or the dependency (docs/analyzers.md says more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude, key_text
from harness.analyzers.resources import missing_check, resolution_check, unjudged, vector
from harness.metrics.port import Labels, Series
from harness.verdict import Check, Figure, Finding, Status
from harness.windows import Seconds

Counts = dict[str, list[tuple[float, float, float]]]
"""Per retry label, the observations in each bucket: (lower, upper, count)."""

SEEN = 0.5
"""A bucket holds an observation when its increase is at least this (PromQL's increase extrapolates a
little past the scrapes: 1 observation may read 1.02)."""


@dataclass(frozen=True, slots=True)
class RetryBackoffParams:
    initial: Seconds = 1.0
    multiplier: float = 2.0
    max_retries: int = 3
    early: Seconds = 0.1
    """How much sooner than its wait a retry may come (a wait is never cut short; the clock's reading is)."""
    late: float = 0.5
    """How much later than its wait a retry may come, as a fraction of the wait (a busy event loop)."""
    selector: str = ""
    by: tuple[str, ...] | None = None
    metric: str = "agent_retry_interval_seconds"
    operation_label: str = "operation"
    retry_label: str = "retry"

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.multiplier < 1:
            raise ValueError("initial: initial must be longer than zero and multiplier at least 1")
        if self.max_retries < 1:
            raise ValueError("max_retries: at least 1")
        if self.early < 0 or self.early >= self.initial or self.late <= 0:
            raise ValueError("early: early at least 0 and shorter than initial, late above 0")

    def expected(self, retry: int) -> float:
        return self.initial * self.multiplier ** (retry - 1)

    def accepted(self, retry: int) -> tuple[float, float]:
        wait = self.expected(retry)
        return wait - self.early, wait * (1 + self.late)

    def queries(self, by: tuple[str, ...], span: str) -> dict[str, str]:
        def increase(suffix: str, *more: str) -> str:
            grouping = ", ".join((*by, self.retry_label, *more))
            return f"sum by ({grouping}) (increase({vector(self.metric + suffix, self.selector)}[{span}]))"

        return {"buckets": increase("_bucket", "le"), "count": increase("_count"), "sum": increase("_sum")}


def describe(p: RetryBackoffParams) -> str:
    waits = ", ".join(f"{p.expected(n):g}" for n in range(1, p.max_retries + 1))
    return (
        f"retries after {waits} s (each {p.early:g} s sooner to {p.late:.0%} later), "
        f"at most {p.max_retries} per series"
    )


def run(context: AnalysisContext, params: RetryBackoffParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = resolution_check(context)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    by = context.group_by(params.by, params.operation_label)
    window = context.window
    queries = params.queries(by, window.promql_range())
    answer = recorder.instant(queries["buckets"], window.end)
    if not answer:
        hint = "does the selector match the services, and do they time their retries?"
        return unjudged(recorder, context, threshold, [missing_check(queries["buckets"], window, hint)])
    groups = _buckets(answer, by, params.retry_label)
    means = _means(recorder, queries, window.end, by, params.retry_label)
    checks: list[Check] = []
    figures: list[Figure] = []
    for key, counts in sorted(groups.items()):
        if _total(counts) < SEEN:
            continue
        group = _Group(key_text(key), counts, means.get(key, {}), params)
        checks.extend([group.backoff(), group.gives_up()])
        figures.extend(group.figures)
    if not checks:
        checks.append(
            Check(
                "retries",
                "error",
                f"no retry in window '{window.name}' ({len(groups)} operation(s) timed, none retried): "
                "the fault did not reach the services' background work",
            )
        )
    return conclude(checks, threshold, recorder.evidence(context, figures), "no operation")


def _buckets(answer: tuple[Series, ...], by: tuple[str, ...], retry_label: str) -> dict[Labels, Counts]:
    """Each group's observations per retry label and bucket, from cumulative bucket increases."""
    cumulative: dict[Labels, dict[str, dict[float, float]]] = {}
    for series in answer:
        le, retry, sample = series.label("le"), series.label(retry_label), series.last()
        if le is None or retry is None or sample is None or not math.isfinite(sample.value):
            continue
        per_le = cumulative.setdefault(series.key(by), {}).setdefault(retry, {})
        per_le[float(le)] = per_le.get(float(le), 0.0) + sample.value
    out: dict[Labels, Counts] = {}
    for key, per_retry in cumulative.items():
        out[key] = {}
        for retry, per_le in per_retry.items():
            lower, below, rows = 0.0, 0.0, []
            for upper in sorted(per_le):
                running = max(below, per_le[upper])  # increases of separate counters may dip a little
                rows.append((lower, upper, running - below))
                lower, below = upper, running
            out[key][retry] = rows
    return out


def _means(
    recorder: Recorder, queries: dict[str, str], at: float, by: tuple[str, ...], retry_label: str
) -> dict[Labels, dict[str, float]]:
    totals: dict[str, dict[tuple[Labels, str], float]] = {}
    for name in ("count", "sum"):
        for series in recorder.instant(queries[name], at):
            sample = series.last()
            retry = series.label(retry_label)
            if sample is not None and retry is not None:
                totals.setdefault(name, {})[(series.key(by), retry)] = sample.value
    out: dict[Labels, dict[str, float]] = {}
    for (key, retry), count in totals.get("count", {}).items():
        seconds = totals.get("sum", {}).get((key, retry))
        if count >= SEEN and seconds is not None:
            out.setdefault(key, {})[retry] = seconds / count
    return out


def _total(counts: Counts) -> float:
    return sum(c for rows in counts.values() for _, _, c in rows)


def _number(label: str) -> tuple[int, bool] | None:
    """A retry label's number and whether it stands for that number and more (``4+``); None: unreadable."""
    text = label.strip()
    more = text.endswith("+")
    try:
        return int(text.rstrip("+")), more
    except ValueError:
        return None


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _interval(lower: float, upper: float) -> str:
    return f"({lower:g}, {upper:g}] s" if math.isfinite(upper) else f"over {lower:g} s"


class _Group:
    """The checks of one operation of one service; collects its figures on the way."""

    def __init__(
        self, name: str, counts: Counts, means: dict[str, float], params: RetryBackoffParams
    ) -> None:
        self.name, self.counts, self.means, self.p = name, counts, means, params
        self.figures: list[Figure] = [Figure(f"retries[{name}]", round(_total(counts)))]
        self.numbered = {label: _number(label) for label in counts}

    def backoff(self) -> Check:
        name, p = f"{self.name} backoff", self.p
        parts: list[tuple[Status, str]] = []  # (status, detail) per retry
        unreadable = sorted(label for label, n in self.numbered.items() if n is None)
        if unreadable:
            parts.append(("error", f"retry label(s) {', '.join(unreadable)} not a number"))
        for label, number in sorted(self.numbered.items(), key=lambda kv: kv[1] or (0, False)):
            if number is None or number[0] > p.max_retries:
                continue
            retry, more = number
            seen = [(lo, hi, c) for lo, hi, c in self.counts[label] if c >= SEEN]
            if not seen:
                continue
            if more:
                why = f"retries {label} are counted together: retry {retry}'s own interval cannot be told"
                parts.append(("error", why))
                continue
            parts.append(self._retry(retry, label, seen))
        statuses = [status for status, _ in parts]
        if not statuses:
            return Check(
                name, "skipped", f"only retries past the {_nth(p.max_retries)}: no interval to judge"
            )
        status: Status = "fail" if "fail" in statuses else "error" if "error" in statuses else "pass"
        return Check(name, status, "; ".join(detail for s, detail in parts if s == status))

    def _retry(self, retry: int, label: str, seen: list[tuple[float, float, float]]) -> tuple[Status, str]:
        low, high = self.p.accepted(retry)
        count = sum(c for _, _, c in seen)
        mean = self.means.get(label)
        if mean is not None:
            self.figures.append(Figure(f"retry_{retry}_interval[{self.name}]", mean, "s"))
        outside = [(lo, hi, c) for lo, hi, c in seen if hi <= low or lo >= high]
        straddling = [
            (lo, hi, c) for lo, hi, c in seen if (lo, hi, c) not in outside and (lo < low or hi > high)
        ]
        expected = f"expected {self.p.expected(retry):g} s ({low:g}-{high:g} s)"
        average = f", {mean:.2f} s on average" if mean is not None else ""
        if outside:
            where = ", ".join(f"{c:.0f} after {_interval(lo, hi)}" for lo, hi, c in outside)
            return "fail", f"retry {retry}: {where} of {count:.0f}, {expected}{average}"
        if straddling:
            where = ", ".join(f"{c:.0f} in {_interval(lo, hi)}" for lo, hi, c in straddling)
            return "error", f"retry {retry}: {where}: the buckets cannot decide against {low:g}-{high:g} s"
        spans = ", ".join(_interval(lo, hi) for lo, hi, _ in seen)
        return "pass", f"retry {retry}: {count:.0f} after {spans}, {expected}{average}"

    def gives_up(self) -> Check:
        name, p = f"{self.name} gives up", self.p
        beyond = {
            label: sum(c for _, _, c in self.counts[label])
            for label, number in self.numbered.items()
            if number is not None and number[0] > p.max_retries
        }
        extra = sum(beyond.values())
        self.figures.append(Figure(f"retries_past_max[{self.name}]", round(extra)))
        if extra >= SEEN:
            labels = ", ".join(f"{label}: {c:.0f}" for label, c in sorted(beyond.items()) if c >= SEEN)
            return Check(
                name,
                "fail",
                f"{extra:.0f} retries past the {_nth(p.max_retries)} ({labels}): it does not give up",
            )
        reached = max(
            (
                n[0]
                for label, n in self.numbered.items()
                if n is not None and sum(c for _, _, c in self.counts[label]) >= SEEN
            ),
            default=0,
        )
        if reached >= p.max_retries:
            return Check(name, "pass", f"retried up to {p.max_retries} times, never more")
        return Check(
            name,
            "skipped",
            f"every series ended by retry {reached} (succeeded): giving up after {p.max_retries} not exercised",
        )


ANALYZER = AnalyzerSpec("retry_backoff", RetryBackoffParams, run, describe, needs_fault=True)
