"""The engine's container events as Prometheus series (restarts, exits, OOM kills, health), for any stack.

tally.py     EventTally: events -> per-service series (their names and meaning are documented there)
engine.py    Engine port (event stream, inspect, listing) and DockerEngine, its adapter
follower.py  EventFollower: follows a project's events in a thread, pushes to the Pushgateway every second
fake.py      FakeEngine, FakeStream, ListSink for tests
"""

from harness.events.engine import DockerEngine, Engine
from harness.events.follower import JOB, EventFollower, EventsError, PushgatewaySink
from harness.events.tally import EventTally

__all__ = ["JOB", "DockerEngine", "Engine", "EventFollower", "EventTally", "EventsError", "PushgatewaySink"]
