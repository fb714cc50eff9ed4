"""The engine-event follower on a fake engine: restarts counted from the engine's RestartCount, exits by
code, OOM kills, health, the delay between a crash and its restart, the stop duration; zero series for
every service from the start; the group deleted at stop, and withdrawn when the stream breaks."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from harness.events.fake import FakeEngine, ListSink, container_attrs, event
from harness.events.follower import EventFollower
from harness.events.tally import EventTally
from harness.polling import wait_until

T = 1_800_000_000.0
SERVICE = "container_label_com_docker_compose_service"


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text, keyed by name and the labels other than the project's."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if "project" not in k))
            out[(s.name, labels)] = s.value
    return out


def value(tally: EventTally, name: str, service: str, **extra: str) -> float:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(tally)
    labels = tuple(sorted({SERVICE: service, **extra}.items()))
    return values(generate_latest(registry).decode())[(name, labels)]


def crash_and_restart(tally: EventTally, cid: str, at: float, restart_count: int, delay: float = 0.1) -> None:
    tally.observe(event("die", cid, "web", at, exitCode="137"))
    tally.observe(event("start", cid, "web", at + delay), restart_count=restart_count)


def test_every_service_has_zero_series_from_the_start() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web"))
    tally.declare("b", container_attrs("db", stop_timeout=None))
    tally.declare("c", {"Config": {"Labels": {}}})  # not a compose container: ignored
    for service in ("web", "db"):
        assert value(tally, "harness_container_restarts_total", service) == 0
        assert value(tally, "harness_container_oom_kills_total", service) == 0
        assert value(tally, "harness_container_health_status", service, status="healthy") == 0
    assert value(tally, "harness_container_stop_timeout_seconds", "web") == 20
    assert value(tally, "harness_container_stop_timeout_seconds", "db") == 10  # Docker's default


def test_policy_restarts_counted_from_the_engines_restart_count_and_their_delay() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web"))
    crash_and_restart(tally, "a", T, restart_count=1, delay=0.25)
    crash_and_restart(tally, "a", T + 1, restart_count=2, delay=0.5)
    tally.observe(event("die", "a", "web", T + 2, exitCode="137"))  # the policy gave up: no start
    assert value(tally, "harness_container_restarts_total", "web") == 2
    assert value(tally, "harness_container_starts_total", "web") == 2
    assert value(tally, "harness_container_exits_total", "web", exit_code="137") == 3
    assert value(tally, "harness_container_last_restart_delay_seconds", "web") == pytest.approx(0.5)
    assert value(tally, "harness_container_last_exit_timestamp_seconds", "web") == pytest.approx(T + 2)
    assert value(tally, "harness_container_last_start_timestamp_seconds", "web") == pytest.approx(T + 1.5)


def test_a_start_by_hand_is_a_start_not_a_restart() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web", restart_count=3))  # restarted before we followed
    tally.observe(event("die", "a", "web", T, exitCode="137"))
    tally.observe(event("start", "a", "web", T + 5), restart_count=0)  # docker start resets the count
    crash_and_restart(tally, "a", T + 6, restart_count=1)
    assert value(tally, "harness_container_starts_total", "web") == 2
    assert value(tally, "harness_container_restarts_total", "web") == 1


def test_a_graceful_stop_and_one_killed_at_the_end_of_its_grace() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web"))
    tally.observe(event("kill", "a", "web", T, signal="15"))
    tally.observe(event("die", "a", "web", T + 0.4, exitCode="0"))
    assert value(tally, "harness_container_last_stop_duration_seconds", "web") == pytest.approx(0.4)
    tally.observe(event("start", "a", "web", T + 1), restart_count=0)
    tally.observe(event("kill", "a", "web", T + 2, signal="15"))
    tally.observe(event("kill", "a", "web", T + 22, signal="9"))
    tally.observe(event("die", "a", "web", T + 22.01, exitCode="137"))
    assert value(tally, "harness_container_last_stop_duration_seconds", "web") == pytest.approx(20.01)
    assert value(tally, "harness_container_exits_total", "web", exit_code="0") == 1
    assert value(tally, "harness_container_exits_total", "web", exit_code="137") == 1


def test_oom_kills_and_health_changes() -> None:
    tally = EventTally("p")
    tally.declare("a", container_attrs("web"))
    tally.observe(event("oom", "a", "web", T))
    tally.observe(event("health_status: unhealthy", "a", "web", T + 1))
    tally.observe(event("health_status: healthy", "a", "web", T + 2))
    assert value(tally, "harness_container_oom_kills_total", "web") == 1
    assert value(tally, "harness_container_health_status", "web", status="healthy") == 1
    assert value(tally, "harness_container_health_status", "web", status="unhealthy") == 0
    assert value(tally, "harness_container_health_changes_total", "web", status="unhealthy") == 1


def test_the_follower_pushes_what_the_engine_says_and_deletes_its_group() -> None:
    engine = FakeEngine({"a": container_attrs("web")})
    sink = ListSink()
    with EventFollower(engine, "p", sink, interval=0.05):
        stream = engine.streams[0]
        stream.emit(event("die", "a", "web", T, exitCode="137"))
        engine.attrs["a"]["RestartCount"] = 1
        stream.emit(event("start", "a", "web", T + 0.2))
        key = ("harness_container_restarts_total", ((SERVICE, "web"),))
        wait_until(
            lambda: sink.pushes and values(sink.pushes[-1]).get(key) == 1,
            timeout=5,
            interval=0.02,
            what="the restart pushed",
        )
    assert stream.closed and sink.deleted == 1
    assert values(sink.pushes[-1])[key] == 1


def test_a_broken_stream_withdraws_the_series() -> None:
    engine = FakeEngine({"a": container_attrs("web")})
    sink = ListSink()
    said: list[str] = []
    follower = EventFollower(engine, "p", sink, interval=0.05, say=said.append)
    follower.start()
    try:
        engine.streams[0].fail(ConnectionError("engine gone"))
        wait_until(lambda: sink.deleted, timeout=5, interval=0.02, what="the group deleted")
        pushes = len(sink.pushes)
        time.sleep(0.2)
        assert len(sink.pushes) == pushes, "no push after the stream broke"
        assert follower.broken and "engine gone" in follower.broken
        assert any("withdrawn" in line for line in said)
    finally:
        follower.stop()


def test_a_failing_pushgateway_is_said_once_and_the_follower_goes_on() -> None:
    engine = FakeEngine({"a": container_attrs("web")})
    sink = ListSink()
    sink.fail_pushes = True
    said: list[str] = []
    with EventFollower(engine, "p", sink, interval=0.02, say=said.append):
        time.sleep(0.2)
        sink.fail_pushes = False
        wait_until(lambda: sink.pushes, timeout=5, interval=0.02, what="a push once it works")
    assert sum("push failed" in line for line in said) == 1
