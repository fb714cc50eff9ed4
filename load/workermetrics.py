"""Client metrics in Locust's distributed mode: every worker's series, summed once by the master.

Each worker observes its own requests into a ClientMetrics exactly as the single process does (the same
buckets, outcomes and counters, whatever pushmetrics.py defines), and sends a ``snapshot`` of its whole
registry with every stats report (Locust's ``report_to_master`` event). The master keeps each worker's
latest snapshot and exposes their sample-by-sample sum (``MergedClientMetrics``), which it alone pushes.

Every series is additive: counters, and histograms as cumulative bucket counts, so the sum of the workers'
buckets is the histogram of all requests, and quantiles read from it (Prometheus' histogram_quantile)
are those of the whole load; averaging each worker's own percentiles would not be. Snapshots are
cumulative, so a lost or repeated report changes nothing once the next one arrives, and a worker that
dies keeps counting with what it last reported. ``locust_users`` is the master's figure (the users it
dispatched), not a sum of the workers' gauges.

Free of Locust and gevent, like pushmetrics.py, so the unit tests can import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

REPORT_KEY = "client_metrics"
"""The key of a worker's snapshot in its stats report."""
USERS = "locust_users"
CREATED = "_created"

Sample = tuple[str, str, str, str, dict[str, str], float]
"""(family, type, help, sample name, labels, value): lists and strings only, for Locust's msgpack."""


def snapshot(registry: CollectorRegistry) -> list[Sample]:
    """Every sample of ``registry`` (a worker's ClientMetrics), ready to travel in a stats report; but
    the *_created timestamps, which do not add up (the locustfile turns them off in any case)."""
    return [
        (family.name, family.type, family.documentation, sample.name, dict(sample.labels), sample.value)
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith(CREATED)
    ]


class UsersFigure:
    """The gauge-like ``users`` Reporter sets: the master's count of users, pushed as locust_users."""

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)


class MergedClientMetrics:
    """What the master pushes: the sum of the workers' latest snapshots (``registry``), users its own."""

    def __init__(self) -> None:
        self.users = UsersFigure()
        self._workers: dict[str, Sequence[Sample]] = {}
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def on_worker_report(self, client_id: str, data: Mapping[str, object], **_: object) -> None:
        """Listener for Locust's ``worker_report`` event on the master."""
        samples = data.get(REPORT_KEY)
        if isinstance(samples, list):
            self._workers[client_id] = [tuple(sample) for sample in samples]  # type: ignore[misc]

    def collect(self) -> Iterator[Metric]:
        return merge(self._workers.values(), self.users.value)


def merge(workers: Iterable[Sequence[Sample]], users: float) -> Iterator[Metric]:
    """The families of all ``workers``' snapshots, each sample summed over the workers."""
    families: dict[str, Metric] = {}
    totals: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = {}
    for samples in workers:
        for family, kind, help_text, name, labels, value in samples:
            families.setdefault(family, Metric(family, help_text, kind))
            key = (family, name, tuple(sorted(labels.items())))
            totals[key] = totals.get(key, 0.0) + value
    for (family, name, labels), value in totals.items():
        figure = users if family == USERS else value
        families[family].add_sample(name, dict(labels), figure)
    return iter(families.values())
