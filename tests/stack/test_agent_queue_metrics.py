"""What the message_queue analyzer reads from the agents (rule 3.3): the priority class of a message, the
overtaking count in the order of delivery (a priority queue overtakes, a FIFO one never does, and a few
hundred milliseconds of publishing skew are not overtaking), the queue wait from the publisher's header,
and the knobs that break the topology (mutants no-priority, no-dead-letter)."""

from __future__ import annotations

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest
from prometheus_client import CollectorRegistry

from agent.config import Config
from agent.queuemetrics import PUBLISHED_AT_HEADER, Overtakes, QueueMetrics, priority_class, published_at


def test_priority_classes() -> None:
    assert [priority_class(p) for p in (0, 2, 4, 5, 8, 10, None)] == [
        "low",
        "low",
        "low",
        "high",
        "high",
        "high",
        "low",
    ]


def test_a_priority_drain_overtakes_the_older_low_messages_and_fifo_none() -> None:
    backlog = [("low", 1.0), ("high", 2.0), ("low", 3.0), ("high", 4.0), ("low", 5.0)]
    by_priority = sorted(backlog, key=lambda m: (m[0] != "high", m[1]))
    tracker = Overtakes()
    assert [tracker.delivered(k, t) for k, t in by_priority] == [False, False, True, True, False]
    fifo = Overtakes()
    assert not any(fifo.delivered(k, t) for k, t in backlog)


def test_publishing_skew_within_the_margin_is_not_overtaking() -> None:
    tracker = Overtakes()
    tracker.delivered("high", 10.3)
    assert tracker.delivered("low", 10.0) is False
    assert tracker.delivered("low", 9.7) is True


def test_deliveries_are_timed_and_counted_by_class() -> None:
    registry = CollectorRegistry()
    metrics = QueueMetrics(registry)
    metrics.declare_publisher()
    metrics.declare_consumer()
    assert metrics.delivered(8, 100.0, 112.0) == "high"
    assert metrics.delivered(2, 99.0, 112.5) == "low"
    assert metrics.delivered(2, None, 113.0) == "low"  # no header: counted as low, not timed
    value = registry.get_sample_value
    assert value("agent_queue_wait_seconds_count", {"priority": "high"}) == 1
    assert value("agent_queue_wait_seconds_sum", {"priority": "low"}) == pytest.approx(13.5)
    assert value("agent_queue_wait_seconds_bucket", {"priority": "low", "le": "5.0"}) == 0
    assert value("agent_queue_overtaken_total") == 1
    assert value("agent_queue_published_total", {"priority": "high"}) == 0
    assert value("agent_queue_rejected_total", {"reason": "poison"}) == 0


def test_the_published_at_header() -> None:
    assert published_at({PUBLISHED_AT_HEADER: "1700000000.250000"}) == 1700000000.25
    assert published_at({PUBLISHED_AT_HEADER: "soon"}) is None
    assert published_at({}) is None


def test_the_topology_knobs() -> None:
    default = Config.from_env({})
    assert default.queue_priority and default.queue_dead_letter
    broken = Config.from_env({"QUEUE_PRIORITY": "false", "QUEUE_DEAD_LETTER": "false"})
    assert not broken.queue_priority and not broken.queue_dead_letter
