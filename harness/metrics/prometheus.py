"""``MetricsSource`` over a real Prometheus, through prometheus-api-client.

Every failure of the client underneath (connection refused, timeout, HTTP error, a malformed answer)
is translated here into ``MeasurementError`` naming the query, so analyzers and the CLI never see a
``requests`` exception.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from harness.errors import MeasurementError
from harness.metrics.port import Sample, Series, labels_of
from harness.windows import Window

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}


def parse_prometheus_duration(text: str) -> float:
    """'1m30s' -> 90.0; raises ValueError on anything else."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _value(raw: Any) -> float:
    # Prometheus sends sample values as strings, including "NaN" and "+Inf".
    return float(raw)


class PrometheusSource:
    """Reads Prometheus' HTTP API; satisfies ``MetricsSource``."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url
        # One attempt per call: the harness decides about retries, and a dead Prometheus must show fast.
        self._client = PrometheusConnect(url=url, disable_ssl=True, timeout=timeout_s, retry=Retry(total=0))

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except requests.JSONDecodeError as exc:  # a RequestException too, but Prometheus did answer
            raise MeasurementError(
                f"Prometheus at {self.url} gave a malformed answer to {what}: {exc}"
            ) from exc
        except PrometheusApiClientException as exc:
            raise MeasurementError(f"Prometheus at {self.url} refused {what}: {exc}") from exc
        except requests.RequestException as exc:
            raise MeasurementError(f"Prometheus at {self.url} unreachable for {what}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise MeasurementError(
                f"Prometheus at {self.url} gave a malformed answer to {what}: {exc}"
            ) from exc

    def instant(self, query: str, at: float) -> tuple[Series, ...]:
        raw = self._call(f"query {query!r}", self._client.custom_query, query, params={"time": f"{at:.3f}"})
        return self._parse(raw, query, instant=True)

    def range(self, query: str, window: Window, step: float) -> tuple[Series, ...]:
        raw = self._call(
            f"range query {query!r}",
            self._client.custom_query_range,
            query,
            start_time=datetime.fromtimestamp(window.start, UTC),
            end_time=datetime.fromtimestamp(window.end, UTC),
            step=f"{step:g}",
        )
        return self._parse(raw, query, instant=False)

    def _parse(self, raw: Any, query: str, instant: bool) -> tuple[Series, ...]:
        try:
            if instant:
                return tuple(
                    Series(
                        labels_of(item["metric"]),
                        (Sample(float(item["value"][0]), _value(item["value"][1])),),
                    )
                    for item in raw
                )
            return tuple(
                Series(
                    labels_of(item["metric"]), tuple(Sample(float(t), _value(v)) for t, v in item["values"])
                )
                for item in raw
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise MeasurementError(f"Prometheus at {self.url} gave a malformed answer to {query!r}") from exc

    def scrape_interval(self, job: str | None = None) -> float | None:
        data = self._call("targets", self._client.get_targets, state="active")
        try:
            intervals = [
                parse_prometheus_duration(target["scrapeInterval"])
                for target in data["activeTargets"]
                if "scrapeInterval" in target and (job is None or target["labels"].get("job") == job)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise MeasurementError(f"Prometheus at {self.url} gave malformed targets: {exc}") from exc
        finite = [i for i in intervals if math.isfinite(i)]
        return max(finite) if finite else None
