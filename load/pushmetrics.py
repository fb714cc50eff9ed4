"""Client-side load metrics for Prometheus (pushed to a Pushgateway) and a progress file for the harness.

Series (the contract of issue 5; the Pushgateway group is job="locust", instance=<run id>):

    locust_request_duration_seconds{name,method}           histogram, every response and every error
    locust_requests_total{name,method,outcome}             outcome "success" or "failure"
    locust_rate_limited_total{name,method}                 the 429 answers (also counted as failures)
    locust_request_failures_total{name,method,kind}        each failure by kind: "refused" (never taken),
                                                           "lost" (taken, no proper answer), "rejected"
                                                           (a 4xx of the service's own): see failures.py
    locust_users                                           users running

A request is a failure exactly when Locust counts it as one (an exception in its request event): with
the default FastHttpUser that is every transport error, timeout and status >= 400. So Prometheus and
Locust's own statistics agree. A 429 is a failure too (the client was not served) and is counted again
in locust_rate_limited_total, so a judge can tell the gateway's rate limit from a broken service.
Every failure is counted once more by its kind in locust_request_failures_total (they sum to the failures),
so graceful_shutdown can tell "refused while down" from "lost after accepted".

Free of Locust and gevent so the unit tests can import it; the locustfile wires it to Locust's events.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from failures import FAILURE_KINDS, failure_kind
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60)
JOB = "locust"
RATE_LIMITED = 429

log = logging.getLogger(__name__)


class ClientMetrics:
    """The client-side series in a registry of their own (nothing else of the process gets pushed)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "locust_request_duration_seconds",
            "Client-side request latency, errors included",
            ["name", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "locust_requests", "Requests by outcome", ["name", "method", "outcome"], registry=self.registry
        )
        self.rate_limited = Counter(
            "locust_rate_limited", "Requests answered 429", ["name", "method"], registry=self.registry
        )
        self.failures = Counter(
            "locust_request_failures",
            "Failed requests by kind: refused (never taken), lost (taken, no proper answer), rejected (4xx)",
            ["name", "method", "kind"],
            registry=self.registry,
        )
        self.users = Gauge("locust_users", "Locust users running", registry=self.registry)

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int = 0,
        response: object = None,
        exception: BaseException | None = None,
        **_: object,
    ) -> None:
        """Listener for Locust's ``request`` event (response_time in milliseconds)."""
        self.duration.labels(name, request_type).observe(max(response_time, 0.0) / 1000.0)
        # Every outcome's series exists from the first request on, so a query for failures answers 0,
        # not "no data".
        success, failure = (self.requests.labels(name, request_type, o) for o in ("success", "failure"))
        (failure if exception is not None else success).inc()
        kinds = {kind: self.failures.labels(name, request_type, kind) for kind in FAILURE_KINDS}
        if exception is not None:
            kinds[failure_kind(exception, response)].inc()
        rate_limited = self.rate_limited.labels(name, request_type)
        if getattr(response, "status_code", None) == RATE_LIMITED:
            rate_limited.inc()


@dataclass(frozen=True, slots=True)
class Progress:
    """What the harness reads from the progress file, once a second."""

    state: str
    users: int
    rps: float
    """Requests per second since the previous report."""
    requests: int
    failures: int


class RateMeter:
    """Requests per second between two readings of a growing count (Locust's own current_rps lags
    by seconds, too slow for a progress line)."""

    def __init__(self, start: float, count: int = 0) -> None:
        self._last = (start, count)

    def rate(self, now: float, count: int) -> float:
        (then, before), self._last = self._last, (now, count)
        return max(count - before, 0) / (now - then) if now > then else 0.0


class Reporter:
    """Pushes the metrics and writes the progress file; either sink is optional."""

    def __init__(
        self,
        metrics: ClientMetrics,
        *,
        pushgateway_url: str,
        run_id: str,
        progress_path: Path | None,
        push_timeout: float = 2.0,
    ) -> None:
        self.metrics = metrics
        self.pushgateway_url = pushgateway_url
        self.run_id = run_id
        self.progress_path = progress_path
        self.push_timeout = push_timeout
        self._push_failing = False

    @property
    def active(self) -> bool:
        return bool(self.pushgateway_url) or self.progress_path is not None

    def report(self, progress: Progress) -> None:
        self.metrics.users.set(progress.users)
        if self.pushgateway_url:
            self._push()
        if self.progress_path is not None:
            write_progress(self.progress_path, progress)

    def _push(self) -> None:
        try:
            push_to_gateway(
                self.pushgateway_url,
                job=JOB,
                registry=self.metrics.registry,
                grouping_key={"instance": self.run_id},
                timeout=self.push_timeout,
            )
        except OSError as exc:  # urllib's URLError and socket timeouts; the load goes on regardless
            if not self._push_failing:
                log.warning("push to %s failed (%s); retrying every report", self.pushgateway_url, exc)
            self._push_failing = True
            return
        if self._push_failing:
            log.warning("push to %s works again", self.pushgateway_url)
        self._push_failing = False


def write_progress(path: Path, progress: Progress) -> None:
    """Replace the file atomically, so a reader never sees half a line."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(asdict(progress)) + "\n", encoding="utf-8")
    os.replace(partial, path)
