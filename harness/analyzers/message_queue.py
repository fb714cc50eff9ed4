"""Rule 3.3, message queue: through a fault that backs the task queue up and its recovery, high-priority
messages overtake low ones, rejected and expired messages reach the dead-letter queue, and none is lost.

From the services' own counts of what they published to and took from the queue (``published_metric``,
``consumed_metric``, ``rejected_metric``, the queue wait histogram ``wait_metric`` and ``overtaken_metric``,
summed over the services ``selector`` matches) and RabbitMQ's own series (``broker_selector``): the depth
of the queue and of its dead-letter queue (``depth_metric`` by ``queue_label``, the per-queue series of
``rabbitmq_prometheus`` with ``prometheus.return_per_object_metrics``) and its counts of dead-lettered
messages by reason and dead-letter strategy. Counters are read at every scrape of the objective's window
(a range query) and their growth counted exactly, not extrapolated as PromQL's ``increase`` does.

1. priority: the queue backed up (at least ``min_backlog`` low-class and one high-class delivery waited
   ``backlog_wait`` or longer, from the wait histogram's bucket there; fewer: error, no backlog to judge),
   and high-class messages overtook low ones: the low-class deliveries that came after a high-class
   message published later (``overtaken_metric``; the agents count them in the broker's order of delivery)
   are at least ``min_overtaken`` of the backlogged low-class ones. A FIFO queue overtakes none. The mean
   wait of each class is reported: after a backlog drained in a second it differs little, since a
   message's wait is then mostly when it was published during the fault, not where it stood in the queue;
2. dead-letter: the consumers rejected messages (none: error) and the broker dead-lettered them
   (``dead_lettered_metric`` with ``reason="rejected"``, any strategy but ``dropped_strategy``, within
   ``tolerance``); messages expired and were dead-lettered (``reason="expired"``; none: error, or fail
   when the broker dropped expired ones instead); and the dead-letter queue grew by at least what the
   broker dead-lettered (nothing consumes it);
3. conservation: published = consumed + dead-lettered + still queued. The imbalance
   published - consumed - dead-letter queue - queue is read at every scrape; its median over the first
   ``reading`` seconds of the window and over the last ``reading`` seconds (which must start at least
   ``drain_margin`` after the fault ended: error otherwise) may differ by at most ``tolerance`` messages
   plus ``tolerance_ratio`` of those published. The medians absorb the skew of scrapes of different
   targets a second apart, while messages flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.resources import resolution_check, unjudged, vector
from harness.metrics.counters import increase, value_at
from harness.metrics.port import Sample, Series
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window


@dataclass(frozen=True, slots=True)
class MessageQueueParams:
    queue: str = "tasks"
    dead_letter_queue: str = "tasks.dead"
    backlog_wait: Seconds = 5.0
    """A delivery that waited this long or longer was in a backlog; a bucket bound of ``wait_metric``."""
    min_backlog: int = 10
    """Low-class deliveries in the backlog needed to judge priority."""
    min_overtaken: float = 0.5
    """The fraction of the backlogged low-class deliveries that high-class ones must have overtaken."""
    tolerance: int = 5
    """Messages: conservation's and the dead-lettered count's slack, plus ``tolerance_ratio``."""
    tolerance_ratio: float = 0.02
    reading: Seconds = 10.0
    drain_margin: Seconds = 10.0
    selector: str = ""
    broker_selector: str = ""
    published_metric: str = "agent_queue_published_total"
    consumed_metric: str = "agent_queue_consumed_total"
    rejected_metric: str = "agent_queue_rejected_total"
    wait_metric: str = "agent_queue_wait_seconds"
    overtaken_metric: str = "agent_queue_overtaken_total"
    priority_label: str = "priority"
    reason_label: str = "reason"
    """The label of ``rejected_metric`` saying why (reported, not judged)."""
    high: str = "high"
    low: str = "low"
    depth_metric: str = "rabbitmq_queue_messages"
    queue_label: str = "queue"
    dead_lettered_metric: str = "rabbitmq_global_messages_dead_lettered_{reason}_total"
    """``{reason}`` is ``rejected`` or ``expired``."""
    strategy_label: str = "dead_letter_strategy"
    dropped_strategy: str = "disabled"
    """The strategy RabbitMQ counts a message under when its queue has no dead-letter exchange."""

    def __post_init__(self) -> None:
        if self.backlog_wait <= 0 or self.reading <= 0 or self.drain_margin < 0:
            raise ValueError("backlog_wait: backlog_wait and reading must be longer than zero")
        if self.min_backlog < 1:
            raise ValueError("min_backlog: at least 1")
        if not 0 < self.min_overtaken <= 1:
            raise ValueError("min_overtaken: a fraction above 0, at most 1")
        if self.tolerance < 0 or not 0 <= self.tolerance_ratio < 1:
            raise ValueError("tolerance: at least 0 (and tolerance_ratio a fraction below 1)")
        if "{reason}" not in self.dead_lettered_metric:
            raise ValueError("dead_lettered_metric: must contain {reason}")

    def queries(self) -> dict[str, str]:
        def total(metric: str) -> str:
            return f"sum({vector(metric, self.selector)})"

        def depth(queue: str) -> str:
            matcher = f'{self.queue_label}="{queue}"'
            return f"sum({vector(self.depth_metric, matcher, self.broker_selector)})"

        def dead(reason: str) -> str:
            metric = self.dead_lettered_metric.format(reason=reason)
            return f"sum by ({self.strategy_label}) ({vector(metric, self.broker_selector)})"

        by_class = f"sum by ({self.priority_label}) "
        return {
            "published": total(self.published_metric),
            "consumed": total(self.consumed_metric),
            "rejected": f"sum by ({self.reason_label}) ({vector(self.rejected_metric, self.selector)})",
            "overtaken": total(self.overtaken_metric),
            "waits": by_class + f"({vector(self.wait_metric + '_count', self.selector)})",
            "wait_seconds": by_class + f"({vector(self.wait_metric + '_sum', self.selector)})",
            "wait_buckets": f"sum by ({self.priority_label}, le) "
            f"({vector(self.wait_metric + '_bucket', self.selector)})",
            "depth": depth(self.queue),
            "dead_depth": depth(self.dead_letter_queue),
            "dead_rejected": dead("rejected"),
            "dead_expired": dead("expired"),
        }


def describe(p: MessageQueueParams) -> str:
    return (
        f"under a backlog (at least {p.min_backlog} low-priority messages waiting {p.backlog_wait:g} s), "
        f"high-priority messages overtake at least {p.min_overtaken:.0%} of them; rejected and expired "
        f"messages reach {p.dead_letter_queue}; published = consumed + dead-lettered + queued "
        f"(+/- {p.tolerance} + {p.tolerance_ratio:.0%})"
    )


def run(context: AnalysisContext, params: MessageQueueParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    guard = resolution_check(context)
    if guard:
        return unjudged(recorder, context, threshold, [guard])
    window = context.window
    answers = {n: recorder.range(q, window, context.step) for n, q in params.queries().items()}
    judge = _Judge(answers, params, window, context.timeline.fault)
    return conclude(judge.checks(), threshold, recorder.evidence(context, judge.figures), "")


def _one(answer: tuple[Series, ...]) -> tuple[Sample, ...]:
    return answer[0].finite() if answer else ()


def _by(answer: tuple[Series, ...], label: str) -> dict[str, tuple[Sample, ...]]:
    return {s.label(label) or "": s.finite() for s in answer if s.finite()}


def _bound(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.nan


class _Judge:
    def __init__(
        self,
        answers: dict[str, tuple[Series, ...]],
        params: MessageQueueParams,
        window: Window,
        fault: Window | None,
    ) -> None:
        self.answers, self.p, self.window, self.fault = answers, params, window, fault
        self.figures: list[Figure] = []

    def grew(self, samples: tuple[Sample, ...]) -> float | None:
        return increase(samples, self.window.start, self.window.end)

    def checks(self) -> list[Check]:
        return [self._priority(), self._dead_letter(), self._conservation()]

    # ---- 1. priority

    def _priority(self) -> Check:
        p, name = self.p, "priority"
        waits = _by(self.answers["waits"], p.priority_label)
        if p.high not in waits or p.low not in waits:
            return Check(
                name, "error", f"no {p.wait_metric} of both classes ({p.high}, {p.low}) in the window"
            )
        backlog: dict[str, float] = {}
        for klass in (p.high, p.low):
            bucket = next(
                (
                    s.finite()
                    for s in self.answers["wait_buckets"]
                    if s.label(p.priority_label) == klass and _bound(s.label("le") or "") == p.backlog_wait
                ),
                None,
            )
            count = self.grew(waits[klass]) or 0.0
            if bucket is None:
                return Check(
                    name, "error", f"{p.wait_metric} has no bucket at {p.backlog_wait:g} s for {klass}"
                )
            backlog[klass] = count - (self.grew(bucket) or 0.0)
            seconds = self.grew(_by(self.answers["wait_seconds"], p.priority_label).get(klass, ())) or 0.0
            if count > 0:
                self.figures.append(Figure(f"mean_wait[{klass}]", seconds / count, "s"))
            self.figures.append(Figure(f"backlog[{klass}]", backlog[klass]))
        if backlog[p.low] < p.min_backlog or backlog[p.high] < 1:
            return Check(
                name,
                "error",
                f"no backlog: {backlog[p.low]:.0f} {p.low} and {backlog[p.high]:.0f} {p.high}-priority "
                f"deliveries waited {p.backlog_wait:g} s or more (at least {p.min_backlog} and 1 needed): "
                "did the fault hold the consumer up?",
            )
        overtaken = self.grew(_one(self.answers["overtaken"]))
        if overtaken is None:
            return Check(name, "error", f"no {p.overtaken_metric}: overtaking cannot be counted")
        ratio = min(1.0, overtaken / backlog[p.low])
        self.figures.append(Figure("overtaken_ratio", ratio))
        detail = (
            f"{overtaken:.0f} {p.low}-priority deliveries overtaken by newer {p.high}-priority ones, "
            f"of {backlog[p.low]:.0f} backlogged ({ratio:.0%}; {backlog[p.high]:.0f} {p.high}-priority backlogged)"
        )
        if ratio >= p.min_overtaken:
            return Check(name, "pass", detail)
        return Check(
            name,
            "fail",
            f"{detail}, below {p.min_overtaken:.0%}: the queue delivers in order, not by priority",
        )

    # ---- 2. dead-letter

    def _dead_letter(self) -> Check:
        p, name = self.p, "dead-letter"
        reasons = {k: self.grew(s) or 0.0 for k, s in _by(self.answers["rejected"], p.reason_label).items()}
        rejected = sum(reasons.values())
        if not rejected:
            return Check(
                name,
                "error",
                f"no message rejected ({p.rejected_metric}): does the load mark poison tasks?",
            )
        dead = {r: _by(self.answers[f"dead_{r}"], p.strategy_label) for r in ("rejected", "expired")}
        if not dead["rejected"] and not dead["expired"]:
            return Check(name, "error", f"no {p.dead_lettered_metric} from the broker (is it scraped?)")
        kept = {
            r: sum(self.grew(s) or 0.0 for k, s in dead[r].items() if k != p.dropped_strategy) for r in dead
        }
        dropped = {r: self.grew(dead[r].get(p.dropped_strategy, ())) or 0.0 for r in dead}
        depth = _one(self.answers["dead_depth"])
        grown = _growth(depth, self.window)
        self.figures.extend(
            [
                Figure("rejected", rejected),
                Figure("dead_lettered[rejected]", kept["rejected"]),
                Figure("dead_lettered[expired]", kept["expired"]),
            ]
        )
        if grown is not None:
            self.figures.append(Figure("dead_letter_queue_growth", grown))
        why = ", ".join(f"{k or '?'} {v:.0f}" for k, v in sorted(reasons.items()) if v)
        said = (
            f"the consumers rejected {rejected:.0f} ({why}), the broker dead-lettered {kept['rejected']:.0f} rejected "
            f"and {kept['expired']:.0f} expired"
        )
        if dropped["rejected"] or dropped["expired"]:
            said += f" and dropped {dropped['rejected']:.0f} rejected and {dropped['expired']:.0f} expired"
        slack = p.tolerance
        if kept["rejected"] < rejected - slack:
            return Check(name, "fail", f"{said}: rejected messages did not reach a dead-letter exchange")
        if kept["expired"] < 1:
            if dropped["expired"] > 0:
                return Check(name, "fail", f"{said}: expired messages were dropped, not dead-lettered")
            return Check(
                name, "error", f"{said}: no message expired (did the queue back up past the load's TTL?)"
            )
        if grown is None:
            return Check(name, "error", f"{said}; no depth of {p.dead_letter_queue} ({p.depth_metric})")
        detail = f"{said}; {p.dead_letter_queue} grew by {grown:.0f}"
        if grown < kept["rejected"] + kept["expired"] - slack:
            return Check(name, "fail", f"{detail}: dead-lettered messages did not reach it")
        return Check(name, "pass", detail)

    # ---- 3. conservation

    def _conservation(self) -> Check:
        p, name = self.p, "conservation"
        end_from = self.window.end - p.reading
        if self.fault is not None and end_from < self.fault.end + p.drain_margin:
            return Check(
                name,
                "error",
                f"the window ends {self.window.end - self.fault.end:.0f} s after the fault: fewer than "
                f"{p.drain_margin:g} s to drain plus {p.reading:g} s of readings",
            )
        terms = {n: _one(self.answers[n]) for n in ("published", "consumed", "dead_depth", "depth")}
        missing = [self._metric(n) for n, s in terms.items() if not s]
        if missing:
            return Check(name, "error", f"no {', '.join(missing)} in the window")
        times = [s.t for s in terms["published"]]
        first = [t for t in times if t <= self.window.start + p.reading]
        last = [t for t in times if t >= end_from]
        start = self._imbalance(terms, first)
        end = self._imbalance(terms, last)
        if start is None or end is None:
            return Check(
                name, "error", f"no reading of all four series in the first and the last {p.reading:g} s"
            )
        published = self.grew(terms["published"]) or 0.0
        lost = end - start
        allowed = p.tolerance + p.tolerance_ratio * published
        self.figures.extend([Figure("published", published), Figure("unaccounted", lost)])
        detail = (
            f"{published:.0f} published; published - consumed - dead-lettered - queued changed by {lost:+.0f} "
            f"over the window (at most {allowed:.0f})"
        )
        if published < 1:
            return Check(name, "error", f"no message published ({p.published_metric})")
        if abs(lost) <= allowed:
            return Check(name, "pass", detail)
        what = "messages lost" if lost > 0 else "more accounted for than published"
        return Check(name, "fail", f"{detail}: {what}")

    def _metric(self, term: str) -> str:
        p = self.p
        return {
            "published": p.published_metric,
            "consumed": p.consumed_metric,
            "dead_depth": f"{p.depth_metric}{{{p.queue_label}={p.dead_letter_queue!r}}}",
            "depth": f"{p.depth_metric}{{{p.queue_label}={p.queue!r}}}",
        }[term]

    def _imbalance(self, terms: dict[str, tuple[Sample, ...]], times: list[float]) -> float | None:
        values = []
        for t in times:
            got = {n: value_at(s, t) for n, s in terms.items()}
            if all(v is not None for v in got.values()):
                pub, con, dead, queued = (
                    got[n] or 0.0 for n in ("published", "consumed", "dead_depth", "depth")
                )
                values.append(pub - con - dead - queued)
        return median(values) if values else None


def _growth(samples: tuple[Sample, ...], window: Window) -> float | None:
    """A gauge's change over the window: its last value minus its value at the start."""
    start, end = value_at(samples, window.start), value_at(samples, window.end)
    if end is None:
        return None
    if start is None:
        start = samples[0].value if samples else 0.0
    return end - start


ANALYZER = AnalyzerSpec("message_queue", MessageQueueParams, run, describe)
