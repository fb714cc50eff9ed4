"""Unit tests of the exporter: Docker JSON -> samples -> Prometheus text, collection loop, OOM events, client."""

from __future__ import annotations

import http.server
import json
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "stack" / "services"))

from exporter.collector import Collector, OomWatcher
from exporter.config import load_config
from exporter.dockerapi import DockerClient, DockerError
from exporter.exposition import container_labels, escape, render_containers, sanitize_label
from exporter.fake import FakeDocker
from exporter.samples import cpu_limits, sample_from_docker, usage_from_stats

# Shaped like dockerd 20.10's one-shot stats on cgroup v1 (trimmed).
STATS_V1: dict[str, Any] = {
    "read": "2026-11-26T12:36:20.75036733Z",
    "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000, "percpu_usage": [1, 2]}, "online_cpus": 2},
    "memory_stats": {
        "usage": 10_000_000,
        "limit": 67108864,
        "stats": {"total_inactive_file": 3_000_000, "inactive_file": 1, "cache": 4_000_000},
    },
    "networks": {"eth0": {"rx_bytes": 1234, "tx_bytes": 567}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
}
STATS_V2: dict[str, Any] = {
    "cpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000}},
    "memory_stats": {"usage": 5_000_000, "stats": {"inactive_file": 1_000_000}},
}


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Tiny exposition parser: {(name, labels): value}; fails on malformed lines."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        if "{" in head:
            name, _, rest = head.partition("{")
            assert rest.endswith("}"), line
            pairs = []
            for item in rest[:-1].split('",'):
                label, _, val = item.partition('="')
                pairs.append((label, val.rstrip('"')))
            labels = frozenset(pairs)
        else:
            name, labels = head, frozenset()
        key = (name, labels)
        assert key not in out, f"duplicate series {line}"
        out[key] = float(value)
    return out


def series(
    parsed: dict[tuple[str, frozenset[tuple[str, str]]], float], metric: str, /, **labels: str
) -> float:
    found = [v for (n, ls), v in parsed.items() if n == metric and set(labels.items()) <= ls]
    assert len(found) == 1, f"{metric}{labels}: {len(found)} series"
    return found[0]


# --- samples -----------------------------------------------------------------------------------------
def test_usage_cgroup_v1_and_v2() -> None:
    v1 = usage_from_stats(STATS_V1)
    assert v1 is not None
    assert (v1.memory_usage_bytes, v1.memory_working_set_bytes) == (10_000_000, 7_000_000)
    assert v1.cpu_usage_seconds == pytest.approx(2.5)
    assert [(i.name, i.rx_bytes, i.tx_bytes) for i in v1.interfaces] == [("eth0", 1234, 567), ("eth1", 1, 2)]
    v2 = usage_from_stats(STATS_V2)
    assert v2 is not None and v2.memory_working_set_bytes == 4_000_000 and v2.interfaces == ()
    assert usage_from_stats({"memory_stats": {}, "cpu_stats": {}}) is None


@pytest.mark.parametrize(
    ("host_config", "expected"),
    [
        ({"NanoCpus": 500_000_000}, (50_000, 100_000)),
        ({"CpuQuota": 20_000, "CpuPeriod": 50_000}, (20_000, 50_000)),
        ({}, (0, 100_000)),
        ({"CpuQuota": -1}, (0, 100_000)),
    ],
)
def test_cpu_limits(host_config: dict[str, int], expected: tuple[int, int]) -> None:
    assert cpu_limits(host_config) == expected


def test_sample_from_inspect_of_exited_oom_killed_container() -> None:
    docker = FakeDocker()
    docker.add(
        "abc",
        "svc-1",
        {"x": "y"},
        status="exited",
        oom_killed=True,
        restart_count=3,
        host_config={"Memory": 67108864, "MemoryReservation": 33554432},
    )
    sample = sample_from_docker(docker.inspect("abc"), STATS_V1)
    assert (sample.name, sample.state, sample.health, sample.oom_killed, sample.restart_count) == (
        "svc-1",
        "exited",
        "none",
        True,
        3,
    )
    assert (sample.memory_limit_bytes, sample.memory_reservation_bytes) == (67108864, 33554432)
    assert sample.usage is None  # not running: no live numbers even if stats were passed


# --- exposition --------------------------------------------------------------------------------------
def test_label_sanitizing_and_escaping() -> None:
    assert sanitize_label("com.docker.compose.project") == "container_label_com_docker_compose_project"
    assert sanitize_label("odd-key/x:1") == "container_label_odd_key_x_1"
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_label_collisions_keep_one_series() -> None:
    docker = FakeDocker()
    docker.add("id1", "n", {"a.b": "1", "a-b": "2"})
    labels = dict(container_labels(sample_from_docker(docker.inspect("id1"), None)))
    assert labels["container_label_a_b"] == "2"  # sorted: "a-b" < "a.b", first wins
    assert labels["id"] == "/docker/id1" and labels["name"] == "n" and labels["image"] == "img:1"


def test_render_contract_names_and_values() -> None:
    docker = FakeDocker()
    docker.add(
        "r1",
        "runner",
        {"com.docker.compose.service": "ollama"},
        health="healthy",
        stats=STATS_V1,
        host_config={"Memory": 1 << 30, "NanoCpus": 1_500_000_000},
    )
    docker.add("p1", "paused-one", status="paused", health="unhealthy", stats=STATS_V2)
    docker.add("e1", "exited-one", status="exited", oom_killed=True)
    samples = [sample_from_docker(docker.inspect(i), docker.stats(i)) for i in ("r1", "p1", "e1")]
    text = render_containers(samples, {"e1": 2}, 1_700_000_000.5)
    parsed = parse_metrics(text)
    assert series(parsed, "container_memory_usage_bytes", name="runner") == 10_000_000
    assert series(parsed, "container_memory_working_set_bytes", name="runner") == 7_000_000
    assert series(parsed, "container_cpu_usage_seconds_total", name="runner") == 2.5
    assert series(parsed, "container_spec_memory_limit_bytes", name="runner") == 1 << 30
    assert series(parsed, "container_spec_cpu_quota", name="runner") == 150_000
    assert series(parsed, "container_spec_cpu_period", name="runner") == 100_000
    assert series(parsed, "container_network_receive_bytes_total", name="runner", interface="eth0") == 1234
    assert series(parsed, "container_network_transmit_bytes_total", name="runner", interface="eth1") == 2
    assert series(parsed, "container_last_seen", name="runner") == 1_700_000_000.5
    assert series(parsed, "container_memory_usage_bytes", name="paused-one") == 5_000_000
    assert series(parsed, "container_health_status", name="runner", status="healthy") == 1
    assert series(parsed, "container_health_status", name="runner", status="unhealthy") == 0
    assert series(parsed, "container_health_status", name="paused-one", status="unhealthy") == 1
    assert series(parsed, "container_health_status", name="exited-one", status="none") == 1
    assert series(parsed, "container_state", name="paused-one", state="paused") == 1
    assert series(parsed, "container_state", name="exited-one", state="exited") == 1
    assert series(parsed, "container_state", name="exited-one", state="running") == 0
    assert series(parsed, "container_oom_killed", name="exited-one") == 1
    assert series(parsed, "container_oom_events_total", name="exited-one") == 2
    assert series(parsed, "container_oom_events_total", name="runner") == 0
    assert series(parsed, "container_restart_count", name="runner") == 0
    assert ("container_label_com_docker_compose_service", "ollama") in next(
        ls for (n, ls) in parsed if n == "container_restart_count" and ("name", "runner") in ls
    )
    # An exited container has no live usage series (as cAdvisor), but keeps its state series.
    assert not [
        k for k in parsed if k[0] == "container_memory_usage_bytes" and ("name", "exited-one") in k[1]
    ]
    assert "# TYPE container_cpu_usage_seconds_total counter" in text
    assert "# TYPE container_memory_usage_bytes gauge" in text


def test_render_nothing() -> None:
    assert render_containers([], {}, 0.0) == ""


# --- collector ---------------------------------------------------------------------------------------
def make_collector(docker: FakeDocker, labels: tuple[str, ...] = ()) -> tuple[Collector, Clock]:
    clock = Clock()
    oom = OomWatcher(docker, clock=clock)
    return Collector(docker, labels, workers=4, oom=oom, clock=clock), clock


def test_collector_filters_by_label_and_skips_stats_of_stopped() -> None:
    docker = FakeDocker()
    docker.add("a", "compose-a", {"com.docker.compose.project": "refstack"}, stats=STATS_V1)
    docker.add("b", "compose-b", {"com.docker.compose.project": "refstack"}, status="exited")
    docker.add("c", "other", {}, stats=STATS_V1)
    collector, _ = make_collector(docker, ("com.docker.compose.project",))
    collector.step()
    snapshot = collector.snapshot
    assert snapshot is not None
    assert [s.name for s in snapshot.samples] == ["compose-a", "compose-b"]
    assert docker.stats_calls == 1
    parsed = parse_metrics(collector.render(stale_after_s=5))
    assert series(parsed, "exporter_containers") == 2 and series(parsed, "exporter_docker_up") == 1


def test_collector_keeps_serving_and_then_withholds_stale_data_when_docker_fails() -> None:
    docker = FakeDocker()
    docker.add("a", "a", stats=STATS_V1)
    collector, clock = make_collector(docker)
    collector.step()
    docker.down = True
    collector.step()
    parsed = parse_metrics(collector.render(stale_after_s=5))
    assert series(parsed, "exporter_docker_up") == 0
    assert series(parsed, "exporter_collection_errors_total") == 1
    assert series(parsed, "container_memory_usage_bytes", name="a") == 10_000_000
    clock.now += 6
    parsed = parse_metrics(collector.render(stale_after_s=5))
    assert not [k for k in parsed if k[0].startswith("container_")]
    assert series(parsed, "exporter_containers") == 0


def test_collector_skips_container_removed_between_list_and_inspect() -> None:
    docker = FakeDocker()
    docker.add("a", "a")
    docker.add("b", "b")
    original = docker.inspect

    def racing_inspect(container_id: str) -> dict[str, Any]:
        if container_id == "b":
            raise DockerError("gone", 404)
        return original(container_id)

    docker.inspect = racing_inspect  # type: ignore[method-assign]
    collector, _ = make_collector(docker)
    collector.step()
    assert collector.snapshot is not None and [s.name for s in collector.snapshot.samples] == ["a"]


def test_run_loop_stops_on_event() -> None:
    docker = FakeDocker()
    docker.add("a", "a")
    collector, _ = make_collector(docker)
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop, 0.01))
    thread.start()
    try:
        for _ in range(200):
            if collector.collections >= 3:
                break
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join(2)
    assert collector.collections >= 3 and not thread.is_alive()


# --- OOM events --------------------------------------------------------------------------------------
def test_oom_watcher_counts_per_container_and_advances_since() -> None:
    docker = FakeDocker()
    docker.events = [
        {"Type": "container", "Action": "oom", "id": "aaa", "timeNano": 1_700_000_000_123_456_789},
        {"Type": "container", "Action": "oom", "Actor": {"ID": "aaa"}, "timeNano": 1_700_000_001_000_000_000},
        {"Type": "container", "Action": "oom", "Actor": {"ID": "bbb"}},
        {"Type": "container", "Action": "oom"},
    ]
    watcher = OomWatcher(docker, clock=Clock())
    stop = threading.Event()
    calls: list[str] = []
    original = docker.oom_events

    def events(since: str) -> Iterator[dict[str, Any]]:
        calls.append(since)
        if len(calls) > 1:
            stop.set()
            return iter(())
        return original(since)

    docker.oom_events = events  # type: ignore[method-assign]
    watcher.run(stop, retry_s=0)
    assert watcher.counts() == {"aaa": 2, "bbb": 1}
    assert calls == ["1700000000.000000001", "1700000001.000000001"]


def test_oom_watcher_survives_docker_errors() -> None:
    docker = FakeDocker()
    docker.down = True
    watcher = OomWatcher(docker, clock=Clock())
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop, 0.01))
    thread.start()
    threading.Event().wait(0.05)
    stop.set()
    thread.join(2)
    assert not thread.is_alive() and watcher.counts() == {} and not watcher.connected


# --- config ------------------------------------------------------------------------------------------
def test_config_defaults_and_overrides() -> None:
    config = load_config({})
    assert (config.port, config.label_filters, config.scrape_interval_s) == (
        10401,
        ("com.docker.compose.project",),
        1.0,
    )
    assert config.docker_host == "unix:///var/run/docker.sock" and config.stale_after_s == 10
    config = load_config({"EXPORTER_LABEL_FILTER": "", "PORT": "9", "DOCKER_HOST": "tcp://127.0.0.1:2375"})
    assert (config.label_filters, config.port) == ((), 9)
    assert load_config({"EXPORTER_LABEL_FILTER": "a=b, c"}).label_filters == ("a=b", "c")


@pytest.mark.parametrize(
    "env", [{"PORT": "x"}, {"PORT": "1.5"}, {"SCRAPE_INTERVAL_S": "0"}, {"DOCKER_HOST": "ssh://h"}]
)
def test_bad_config(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        load_config(env)


# --- the raw Docker client, against a fake engine on a unix socket ----------------------------------
class _EngineHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append(self.path)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/v1.41/containers/json":
            labels = json.loads(query["filters"][0])["label"]
            self._json(200, [{"Id": "abc", "Labels": labels}])
        elif url.path == "/v1.41/containers/abc/stats":
            self._json(200, STATS_V1 if query == {"stream": ["false"], "one-shot": ["true"]} else {})
        elif url.path == "/v1.41/events":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in ({"id": "x", "Action": "oom"}, {"id": "y", "Action": "oom"}):
                line = json.dumps(event).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._json(404, {"message": "No such container: nope"})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "docker.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _EngineHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{path}"
    server.shutdown()
    server.server_close()


def test_client_over_unix_socket(engine: str) -> None:
    client = DockerClient(engine, timeout_s=2)
    assert client.containers(("com.docker.compose.project",)) == [
        {"Id": "abc", "Labels": ["com.docker.compose.project"]}
    ]
    assert client.stats("abc")["memory_stats"]["usage"] == 10_000_000
    with pytest.raises(DockerError) as info:
        client.inspect("nope")
    assert info.value.status == 404 and "No such container" in str(info.value)
    assert [e["id"] for e in client.oom_events("1.000000001")] == ["x", "y"]
    events_path = next(p for p in _EngineHandler.seen if p.startswith("/v1.41/events"))
    query = parse_qs(urlsplit(events_path).query)
    assert query["since"] == ["1.000000001"]
    assert json.loads(query["filters"][0]) == {"type": ["container"], "event": ["oom"]}


def test_client_unreachable_engine(tmp_path: Path) -> None:
    client = DockerClient(f"unix://{tmp_path}/missing.sock", timeout_s=1)
    with pytest.raises(DockerError):
        client.containers(())
    with pytest.raises(ValueError):
        DockerClient("ssh://host")
