"""Rule 3.3 read from the agents: what they published to and took from the task queue, by priority class.

Names are the stack contract (stack/README.md, "Metrics"); the analyzer `message_queue` reads them beside
RabbitMQ's own per-queue series:

  agent_queue_published_total{priority}   confirmed by the broker (publisher confirms), by class
  agent_queue_consumed_total{priority}    handled and acknowledged, by class
  agent_queue_rejected_total{reason}      rejected without requeue (so dead-lettered): poison, malformed, failed
  agent_queue_wait_seconds{priority}      from the publisher's x-published-at header to the delivery
  agent_queue_overtaken_total             low-class deliveries that a newer high-class message overtook

Pure module (prometheus_client only) so the project's test interpreter can import it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

HIGH_PRIORITY = 5
"""A message of priority 5-10 is of the high class ("critical operations"), 0-4 of the low one."""
CLASSES = ("high", "low")
REJECT_REASONS = ("poison", "malformed", "failed")
"""Why the consumer rejected a message: the task marked unprocessable (`poison:` input), a body that is
not a task, or its store failed."""
PUBLISHED_AT_HEADER = "x-published-at"
"""Unix time the publisher sent the message (a float as text): the start of its queue wait."""
OVERTAKE_MARGIN_S = 0.5
"""A newer message overtook an older one only if published this much later: concurrent requests reach
the broker in a slightly different order than they stamped their times."""
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120)


def priority_class(priority: int | None) -> str:
    return "high" if (priority or 0) >= HIGH_PRIORITY else "low"


class Overtakes:
    """Counts, in delivery order, the low-class messages delivered after a high-class one published more
    than OVERTAKE_MARGIN_S later: what a priority queue does under a backlog and a FIFO queue never does."""

    def __init__(self) -> None:
        self.newest_high = float("-inf")

    def delivered(self, klass: str, published_at: float) -> bool:
        """One delivery, in the order the broker made them; True when it was overtaken."""
        if klass == "high":
            self.newest_high = max(self.newest_high, published_at)
            return False
        return self.newest_high - published_at > OVERTAKE_MARGIN_S


class QueueMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "agent_queue_published",
            "Messages published to the task queue and confirmed by the broker, by priority class",
            ["priority"],
            registry=registry,
        )
        self.consumed = Counter(
            "agent_queue_consumed",
            "Messages taken from the task queue, handled and acknowledged, by priority class",
            ["priority"],
            registry=registry,
        )
        self.rejected = Counter(
            "agent_queue_rejected",
            "Messages rejected without requeue (dead-lettered by the queue), by reason",
            ["reason"],
            registry=registry,
        )
        self.wait = Histogram(
            "agent_queue_wait_seconds",
            "From publishing (the x-published-at header) to delivery to the consumer, by priority class",
            ["priority"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.overtaken = Counter(
            "agent_queue_overtaken",
            "Low-class messages delivered after a high-class message published later (priority at work)",
            registry=registry,
        )
        self._overtakes = Overtakes()

    def declare_publisher(self) -> None:
        for klass in CLASSES:
            self.published.labels(klass)

    def declare_consumer(self) -> None:
        for klass in CLASSES:
            self.consumed.labels(klass)
            self.wait.labels(klass)
        for reason in REJECT_REASONS:
            self.rejected.labels(reason)

    def delivered(self, priority: int | None, published_at: float | None, now: float) -> str:
        """A delivery, observed before any await so that the order is the broker's; returns its class."""
        klass = priority_class(priority)
        if published_at is not None:
            self.wait.labels(klass).observe(max(0.0, now - published_at))
            if self._overtakes.delivered(klass, published_at):
                self.overtaken.inc()
        return klass


def published_at(headers: dict[str, str]) -> float | None:
    try:
        return float(headers[PUBLISHED_AT_HEADER])
    except (KeyError, ValueError):
        return None
