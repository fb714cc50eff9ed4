"""Distributed load: the master's merged client metrics are those of all requests, counted once.

A fixed request log is split over three simulated workers the way Locust's distributed mode splits it
(each worker observes its own requests into a ClientMetrics and sends cumulative snapshots in its stats
reports, through msgpack like Locust's messages); the merged histogram must equal the histogram of the
whole log bucket for bucket, so its p50/p95/p99 (Prometheus' histogram_quantile, the judge's arithmetic)
are those of the whole log. Averaging the workers' own percentiles, the mistake this guards against,
gives other figures: the test would fail on it.
"""

from __future__ import annotations

import msgpack
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pushmetrics import ClientMetrics
from workermetrics import REPORT_KEY, MergedClientMetrics, snapshot

from harness.metrics.histogram import Bucket, estimate_quantile


class Response:
    status_code = 200


class Failed(Exception):
    pass


def request_log() -> list[tuple[str, float, bool]]:
    """(name, response time in ms, failed): 600 requests, fixed. The workers see different latencies,
    as they do when one worker's users happen to hit the slow path (or its CPU is the busier)."""
    log = []
    for i in range(600):
        name = ("orchestrator task", "summarizer task", "indexer health")[i % 3]
        if i % 6 < 3:
            elapsed = 4.0 + (i * 7919) % 60  # fast: 4..63 ms
        elif i % 6 < 5:
            elapsed = 80.0 + (i * 104729) % 420  # middling: 80..499 ms
        else:
            elapsed = 600.0 + (i * 1299709) % 3400  # slow tail: 600..3999 ms
        log.append((name, elapsed, i % 50 == 0))
    return log


def observe(metrics: ClientMetrics, name: str, elapsed: float, failed: bool) -> None:
    metrics.on_request(
        "POST", name, elapsed, response=Response(), exception=Failed("500") if failed else None
    )


def over_the_wire(data: dict) -> dict:
    """A worker's stats report as the master receives it (Locust sends its messages with msgpack)."""
    return msgpack.loads(msgpack.dumps(data), raw=False, strict_map_key=False)


def samples(registry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition the Pushgateway would receive."""
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")  # timestamps, off in the locustfile (disable_created_metrics)
    }


def buckets(registry) -> tuple[Bucket, ...]:
    """``sum by (le)`` of the duration histogram's buckets: what histogram_quantile reads."""
    totals: dict[float, float] = {}
    for (name, labels), value in samples(registry).items():
        if name == "locust_request_duration_seconds_bucket":
            le = float(dict(labels)["le"])
            totals[le] = totals.get(le, 0.0) + value
    return tuple(Bucket(le, count) for le, count in sorted(totals.items()))


def percentile(q: float, registry) -> float:
    estimate = estimate_quantile(q, buckets(registry))
    assert estimate is not None
    return estimate.value


def distributed(log: list[tuple[str, float, bool]]) -> tuple[MergedClientMetrics, list[ClientMetrics]]:
    """Worker k takes the requests of its users: the fast ones on 1, the middling on 2, the tail on 3;
    each reports every 40 of its requests and once more at the end (the final report on quit)."""
    master = MergedClientMetrics()
    workers = {f"worker-{k}": ClientMetrics() for k in (1, 2, 3)}
    for i, (name, elapsed, failed) in enumerate(log):
        worker_id = f"worker-{1 if i % 6 < 3 else 2 if i % 6 < 5 else 3}"
        observe(workers[worker_id], name, elapsed, failed)
        if i % 40 == 39:
            master.on_worker_report(
                worker_id, over_the_wire({REPORT_KEY: snapshot(workers[worker_id].registry)})
            )
    for worker_id, metrics in workers.items():
        master.on_worker_report(worker_id, over_the_wire({REPORT_KEY: snapshot(metrics.registry)}))
    master.users.set(9)
    return master, list(workers.values())


def single_process(log: list[tuple[str, float, bool]]) -> ClientMetrics:
    whole = ClientMetrics()
    for name, elapsed, failed in log:
        observe(whole, name, elapsed, failed)
    whole.users.set(9)
    return whole


def test_the_merged_series_are_those_of_the_whole_log_sample_for_sample():
    log = request_log()
    master, _ = distributed(log)
    whole = single_process(log)
    assert samples(master.registry) == pytest.approx(samples(whole.registry))
    merged = samples(master.registry)
    count = sum(v for (n, _), v in merged.items() if n == "locust_request_duration_seconds_count")
    assert count == len(log)  # every request counted once, none twice


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_the_merged_percentiles_equal_those_of_all_requests_and_averaging_the_workers_would_not(q):
    log = request_log()
    master, workers = distributed(log)
    whole = single_process(log)
    merged = percentile(q, master.registry)
    assert merged == percentile(q, whole.registry)
    averaged = sum(percentile(q, w.registry) for w in workers) / len(workers)
    assert abs(averaged - merged) > 0.05 * merged, (q, merged, averaged)


def test_the_true_percentile_of_the_log_lies_in_the_bucket_the_merged_estimate_names():
    log = request_log()
    master, _ = distributed(log)
    ordered = sorted(elapsed / 1000 for _, elapsed, _ in log)
    for q in (0.5, 0.95, 0.99):
        estimate = estimate_quantile(q, buckets(master.registry))
        assert estimate is not None
        true = ordered[max(int(q * len(ordered)) - 1, 0)]
        assert estimate.lower <= true <= estimate.upper


def test_a_repeated_report_counts_once_and_a_dead_worker_keeps_what_it_reported():
    metrics = ClientMetrics()
    observe(metrics, "a", 10.0, False)
    master = MergedClientMetrics()
    report = over_the_wire({REPORT_KEY: snapshot(metrics.registry)})
    master.on_worker_report("w1", report)
    master.on_worker_report("w1", report)  # repeated: cumulative snapshots replace, never add
    master.on_worker_report("w2", {"stats": []})  # a report without metrics changes nothing
    assert (
        master.registry.get_sample_value(
            "locust_request_duration_seconds_count", {"name": "a", "method": "POST"}
        )
        == 1
    )


def test_users_are_the_masters_figure_not_a_sum_of_the_workers_gauges():
    metrics = ClientMetrics()
    metrics.users.set(3)
    master = MergedClientMetrics()
    master.on_worker_report("w1", over_the_wire({REPORT_KEY: snapshot(metrics.registry)}))
    master.on_worker_report("w2", over_the_wire({REPORT_KEY: snapshot(metrics.registry)}))
    master.users.set(5)
    assert master.registry.get_sample_value("locust_users") == 5
