"""message_queue (rule 3.3) on a simulated task queue whose consumer is frozen through the fault window and
drains it at recovery, scraped every second (the frozen consumer's own series have a gap, as a paused
container's do): a priority queue with a dead-letter exchange passes all three checks; a FIFO queue fails
priority; a queue without a dead-letter exchange fails dead-letter and conservation; a consumer that loses
messages fails conservation; no backlog, no rejection, no expiry, too short a recovery, a missing bucket,
no series or too few scrapes are errors, never a pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from core_synth import context, timeline

from harness.analyzers import ANALYZERS
from harness.analyzers.message_queue import MessageQueueParams
from harness.analyzers.message_queue import run as message_queue
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Figure, Finding
from harness.windows import ScenarioTimeline

TIMELINE = timeline(steady=20, fault=30, recovery=30)
PARAMS = MessageQueueParams()
QUERIES = PARAMS.queries()
TTL_S = 5.0


@dataclass
class Message:
    published: float
    klass: str
    kind: str = "task"  # task | ttl | poison


@dataclass
class Broker:
    """A queue (priority or FIFO, with or without a dead-letter exchange) and a fast consumer that takes
    every ready message each second unless frozen; counts what the agents and RabbitMQ would export."""

    priority: bool = True
    dead_letter: bool = True
    lose_every: int = 0  # the consumer acks every n-th message without counting it (a lost message)
    queue: list[Message] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)
    newest_high: float = float("-inf")
    handled: int = 0

    def add(self, name: str, by: float = 1.0) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + by

    def publish(self, message: Message) -> None:
        self.queue.append(message)
        self.add("published")

    def drain(self, now: float) -> None:
        order = sorted(
            self.queue, key=lambda m: (m.klass != "high", m.published) if self.priority else m.published
        )
        self.queue = []
        for m in order:
            if m.kind == "ttl" and now - m.published > TTL_S:
                self.add(f"expired_{'at_most_once' if self.dead_letter else 'disabled'}")
                self.add("dead_depth", 1.0 if self.dead_letter else 0.0)
                continue
            wait = now - m.published
            self.add(f"waits_{m.klass}")
            self.add(f"wait_seconds_{m.klass}", wait)
            self.add(f"within_{m.klass}", 1.0 if wait <= PARAMS.backlog_wait else 0.0)
            if m.klass == "high":
                self.newest_high = max(self.newest_high, m.published)
            elif self.newest_high - m.published > 0.5:
                self.add("overtaken")
            if m.kind == "poison":
                self.add("rejected/poison")
                self.add(f"rejected_{'at_most_once' if self.dead_letter else 'disabled'}")
                self.add("dead_depth", 1.0 if self.dead_letter else 0.0)
                continue
            self.handled += 1
            if self.lose_every and self.handled % self.lose_every == 0:
                continue
            self.add("consumed")


def simulate(
    fake: FakeMetricsSource,
    broker: Broker,
    tl: ScenarioTimeline = TIMELINE,
    frozen: bool = True,
    poison_every: int = 5,
    ttl_every: int = 4,
) -> None:
    """One high and two low messages a second (every ``poison_every``-th second one more low, marked
    poison; every ``ttl_every``-th one with a 5 s TTL); the consumer frozen through the fault window."""
    fault = tl.fault
    assert fault is not None
    series: dict[str, list[tuple[float, float]]] = {}
    start, end = int(tl.whole.start), int(tl.whole.end)
    for i, t in enumerate(range(start, end + 1)):
        now = float(t)
        for klass in ("high", "low", "low"):
            broker.publish(Message(now + 0.1, klass))
        if poison_every and i % poison_every == 0:
            broker.publish(Message(now + 0.2, "low", "poison"))
        if ttl_every and i % ttl_every == 0:
            broker.publish(Message(now + 0.3, "low", "ttl"))
        paused = frozen and fault.start <= now < fault.end
        if not paused:
            broker.drain(now + 0.9)
        broker.counts["depth"] = float(len(broker.queue))
        c = broker.counts.get
        put = series.setdefault
        put("published", []).append((now, c("published", 0.0)))
        put("depth", []).append((now, c("depth", 0.0)))
        put("dead_depth", []).append((now, 40.0 + c("dead_depth", 0.0)))  # 40 from earlier scenarios
        for reason in ("rejected", "expired"):
            for strategy in ("at_most_once", "disabled"):
                put(f"dead_{reason}/{strategy}", []).append((now, c(f"{reason}_{strategy}", 0.0)))
        if paused:
            continue  # a frozen container is not scraped
        for name in ("consumed", "rejected/poison", "overtaken"):
            put(name, []).append((now, c(name, 0.0)))
        for klass in ("high", "low"):
            put(f"waits/{klass}", []).append((now, c(f"waits_{klass}", 0.0)))
            put(f"wait_seconds/{klass}", []).append((now, c(f"wait_seconds_{klass}", 0.0)))
            put(f"within/{klass}", []).append((now, c(f"within_{klass}", 0.0)))
    for name, samples in series.items():
        base, _, label = name.partition("/")
        if base in ("dead_rejected", "dead_expired"):
            fake.put(QUERIES[base], {"dead_letter_strategy": label}, samples)
        elif base == "within":
            fake.put(QUERIES["wait_buckets"], {"priority": label, "le": "5.0"}, samples)
        elif base in ("waits", "wait_seconds"):
            fake.put(QUERIES[base], {"priority": label}, samples)
        elif base == "rejected":
            fake.put(QUERIES[base], {"reason": label}, samples)
        else:
            fake.put(QUERIES[base], {}, samples)


def judged(fake: FakeMetricsSource, tl: ScenarioTimeline = TIMELINE, **kw: object) -> Finding:
    params = kw.pop("params", PARAMS)
    assert isinstance(params, MessageQueueParams)
    return message_queue(context(fake, "whole", tl, service_label="service", **kw), params)


def statuses(finding: Finding) -> dict[str, str]:
    return {c.name: c.status for c in finding.evidence.checks}


def figures(finding: Finding) -> dict[str, float]:
    assert isinstance(finding.measured, tuple)
    return {f.name: f.value for f in finding.measured if isinstance(f, Figure)}


def details(finding: Finding) -> str:
    return " | ".join(f"{c.name}: {c.detail}" for c in finding.evidence.checks)


def test_a_priority_queue_with_a_dead_letter_exchange_passes() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker())
    finding = judged(fake)
    assert finding.status == "pass", details(finding)
    assert statuses(finding) == {"priority": "pass", "dead-letter": "pass", "conservation": "pass"}
    measured = figures(finding)
    assert measured["overtaken_ratio"] > 0.9
    assert measured["backlog[low]"] >= 40 and measured["backlog[high]"] >= 20
    assert measured["dead_lettered[expired]"] >= 5 and measured["rejected"] >= 10
    assert measured["unaccounted"] == pytest.approx(0)
    assert "grew by" in details(finding)
    assert (
        "the consumers rejected 16 (poison 16), the broker dead-lettered 16 rejected and 7 expired"
        in details(finding)
    )


def test_a_fifo_queue_fails_priority_only() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(priority=False))
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding) == {"priority": "fail", "dead-letter": "pass", "conservation": "pass"}
    assert figures(finding)["overtaken_ratio"] == 0
    assert "the queue delivers in order, not by priority" in finding.reason


def test_a_queue_without_a_dead_letter_exchange_fails_dead_letter_and_conservation() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(dead_letter=False))
    finding = judged(fake)
    assert finding.status == "fail"
    assert statuses(finding) == {"priority": "pass", "dead-letter": "fail", "conservation": "fail"}
    assert "rejected messages did not reach a dead-letter exchange" in finding.reason
    assert "messages lost" in finding.reason
    assert figures(finding)["unaccounted"] > 20


def test_expired_messages_dropped_fail_even_when_rejected_ones_are_dead_lettered() -> None:
    fake = FakeMetricsSource()
    broker = Broker()
    simulate(fake, broker)
    dropped = FakeMetricsSource()
    # the same run, but the broker counts its expiries as dropped (strategy disabled)
    for query, series in fake._series.items():
        for s in series:
            labels = dict(s.labels)
            if query == QUERIES["dead_expired"]:
                labels["dead_letter_strategy"] = {"at_most_once": "disabled", "disabled": "at_most_once"}[
                    labels["dead_letter_strategy"]
                ]
            dropped.put(query, labels, [(x.t, x.value) for x in s.samples])
    finding = judged(dropped)
    assert statuses(finding)["dead-letter"] == "fail"
    assert "expired messages were dropped, not dead-lettered" in finding.reason


def test_a_consumer_that_loses_messages_fails_conservation() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(lose_every=10))
    finding = judged(fake)
    assert statuses(finding)["conservation"] == "fail"
    assert statuses(finding)["priority"] == "pass"
    assert "messages lost" in finding.reason


def test_a_few_messages_of_scrape_skew_are_within_the_tolerance() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(lose_every=0))
    skewed = FakeMetricsSource()
    for query, series in fake._series.items():
        for s in series:
            shift = 3.0 if query == QUERIES["published"] and s.samples[-1].t > 0 else 0.0
            last = s.samples[-1].t
            # the publisher's counter read 3 messages ahead at the end (scraped a second later)
            skewed.put(
                query, dict(s.labels), [(x.t, x.value + (shift if x.t > last - 12 else 0)) for x in s.samples]
            )
    finding = judged(skewed)
    assert statuses(finding)["conservation"] == "pass", details(finding)
    assert figures(finding)["unaccounted"] == pytest.approx(3)


def test_no_backlog_is_an_error_for_priority_and_expiry() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(), frozen=False)
    finding = judged(fake)
    assert finding.status == "error"
    assert statuses(finding) == {"priority": "error", "dead-letter": "error", "conservation": "pass"}
    assert "no backlog: 0 low and 0 high-priority deliveries waited 5 s or more" in finding.reason
    assert "no message expired" in finding.reason


def test_no_rejected_message_is_an_error() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker(), poison_every=0)
    finding = judged(fake)
    assert statuses(finding)["dead-letter"] == "error"
    assert (
        "no message rejected (agent_queue_rejected_total): does the load mark poison tasks?" in finding.reason
    )


def test_too_short_a_recovery_to_drain_is_an_error_for_conservation() -> None:
    tl = timeline(steady=20, fault=30, recovery=15)
    fake = FakeMetricsSource()
    simulate(fake, Broker(), tl)
    finding = judged(fake, tl)
    assert statuses(finding)["conservation"] == "error"
    assert "fewer than 10 s to drain plus 10 s of readings" in finding.reason


def test_no_bucket_at_the_backlog_wait_is_an_error() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker())
    finding = judged(fake, params=MessageQueueParams(backlog_wait=4))
    assert statuses(finding)["priority"] == "error"
    assert "agent_queue_wait_seconds has no bucket at 4 s for high" in finding.reason


def test_no_series_is_an_error_never_a_pass() -> None:
    finding = judged(FakeMetricsSource())
    assert finding.status == "error"
    assert set(statuses(finding).values()) == {"error"}
    assert "no agent_queue_published_total, agent_queue_consumed_total" in finding.reason


def test_too_few_scrapes_is_an_error() -> None:
    fake = FakeMetricsSource()
    simulate(fake, Broker())
    finding = judged(fake, scrape=60.0)
    assert finding.status == "error"
    assert statuses(finding) == {"resolution": "error"}


def test_registered_and_its_parameters_checked() -> None:
    assert ANALYZERS["message_queue"].params is MessageQueueParams
    with pytest.raises(ValueError, match="min_overtaken"):
        MessageQueueParams(min_overtaken=0)
    with pytest.raises(ValueError, match="dead_lettered_metric"):
        MessageQueueParams(dead_lettered_metric="rabbitmq_dead_total")
    q = MessageQueueParams(broker_selector='service="rabbitmq"').queries()
    assert q["depth"] == 'sum(rabbitmq_queue_messages{queue="tasks", service="rabbitmq"})'
    assert q["dead_expired"] == (
        "sum by (dead_letter_strategy) "
        '(rabbitmq_global_messages_dead_lettered_expired_total{service="rabbitmq"})'
    )
