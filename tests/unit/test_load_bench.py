"""bench/load_bench.py's arithmetic (the merged pushes, Prometheus' histogram_quantile, the table) and its
refusals: a target that is not loopback, nothing answering, options out of bounds (exit 2, no Locust)."""

from __future__ import annotations

import importlib
import math
import socket
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
load_bench = importlib.import_module("load_bench")

INF = math.inf


def push(success: float, failure: float, buckets: dict[str, float]) -> str:
    """A push as the harness's master sends it: two request names, the histogram split between them."""
    lines = ["# TYPE locust_requests counter"]
    for name in ("health", "other"):
        lines += [
            f'locust_requests_total{{name="{name}",method="GET",outcome="success"}} {success / 2}',
            f'locust_requests_total{{name="{name}",method="GET",outcome="failure"}} {failure / 2}',
        ]
    lines.append("# TYPE locust_request_duration_seconds histogram")
    for name in ("health", "other"):
        for le, count in buckets.items():
            lines.append(
                f'locust_request_duration_seconds_bucket{{name="{name}",method="GET",le="{le}"}} {count / 2}'
            )
    lines.append("# TYPE locust_users gauge\nlocust_users 16.0")
    return "\n".join(lines) + "\n"


def test_a_push_is_summed_over_names_and_a_window_is_the_difference_of_two() -> None:
    first = load_bench.parse_push(push(100, 2, {"0.005": 60, "0.01": 90, "+Inf": 102}), at=10.0)
    assert (first.requests, first.failures) == (102, 2)
    assert first.buckets == ((0.005, 60), (0.01, 90), (INF, 102))
    last = load_bench.parse_push(push(1100, 4, {"0.005": 560, "0.01": 1090, "+Inf": 1104}), at=30.0)
    window = load_bench.between(first, last)
    assert (window.at, window.requests, window.failures) == (20.0, 1002, 2)
    assert window.buckets == ((0.005, 500), (0.01, 1000), (INF, 1002))


def test_histogram_quantile_interpolates_as_prometheus_does() -> None:
    buckets = ((0.005, 0.0), (0.01, 50.0), (0.025, 90.0), (0.05, 100.0), (INF, 100.0))
    # rank 50 of 100 is the top of (0.005, 0.01]; rank 99 is 9/10 into (0.025, 0.05]
    assert load_bench.histogram_quantile(0.5, buckets) == pytest.approx(0.01)
    assert load_bench.histogram_quantile(0.99, buckets) == pytest.approx(0.025 + 0.025 * 0.9)
    assert load_bench.histogram_quantile(0.25, buckets) == pytest.approx(0.0075)
    # the first bucket counts from 0; a rank in +Inf gets the highest finite bound
    assert load_bench.histogram_quantile(0.5, ((0.005, 10.0), (INF, 10.0))) == pytest.approx(0.0025)
    assert load_bench.histogram_quantile(0.99, ((0.005, 10.0), (INF, 20.0))) == 0.005
    assert load_bench.histogram_quantile(0.5, ((0.005, 0.0), (INF, 0.0))) is None
    assert load_bench.histogram_quantile(0.5, ()) is None


def test_quantiles_say_only_what_the_buckets_can() -> None:
    assert load_bench.quantile_ms(0.5, ((0.005, 10.0), (0.01, 10.0), (INF, 10.0))) == "<5"
    assert load_bench.quantile_ms(0.99, ((0.005, 10.0), (0.01, 10.0), (INF, 20.0))) == ">10"
    assert load_bench.quantile_ms(0.5, ((0.005, 0.0), (0.01, 10.0), (INF, 10.0))) == "7.5"
    assert load_bench.quantile_ms(0.5, ((0.005, 0.0), (INF, 0.0))) == "-"


def test_cpu_per_request_and_the_table() -> None:
    # half a core for 20 s at 2,500 req/s: 200 microseconds of CPU per request
    assert load_bench.us_per_request(10.0, 20.0, 2500.0) == pytest.approx(200.0)
    assert math.isnan(load_bench.us_per_request(1.0, 20.0, 0.0))
    rows = [
        load_bench.Row(1, 2000.0, "<5", "7.5", 250.0, 2500.0, 200.0),
        load_bench.Row(2, 3000.0, "<5", "12.0", 260.0, 3600.0, 205.0),
    ]
    header, one, two = load_bench.table(rows)
    assert header.split() == [
        *("workers", "req/s", "x", "of", "1", "p50", "ms", "p99", "ms", "CPU", "us/req", "|"),
        *("bare", "req/s", "bare", "us/req", "added", "us/req"),
    ]
    assert one.split() == ["1", "2000.0", "1.00", "<5", "7.5", "250.0", "|", "2500.0", "200.0", "50.0"]
    assert two.split() == ["2", "3000.0", "1.50", "<5", "12.0", "260.0", "|", "3600.0", "205.0", "55.0"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--host", "http://10.1.2.3:8080"], "is not loopback"),
        (["--up", "--host", "http://10.1.2.3:8080"], "is not loopback"),  # before any request to it
        (["--seconds", "0"], "--seconds 0"),
        (["--seconds", "600"], "--seconds 600"),
        (["--users", "2"], "--users 2"),
        (["--users", "500"], "--users 500"),
        (["--path", "health"], "--path 'health'"),
    ],
)
def test_it_refuses_with_exit_2_before_starting_any_load(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_bench.main(argv) == 2
    assert says in capsys.readouterr().err


def test_nothing_answering_at_the_target_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there (bound and closed a moment ago)
    assert load_bench.main(["--host", host]) == 2
    assert f"nothing answers at {host}/health" in capsys.readouterr().err
