"""Metrics access: the ``MetricsSource`` port, its Prometheus adapter and fake, and the arithmetic
(histogram quantiles, counter increases, the resolution guard) analyzers build on."""

from harness.metrics.fake import FakeMetricsSource
from harness.metrics.port import Labels, MetricsSource, Sample, Series, labels_of
from harness.metrics.prometheus import PrometheusSource

__all__ = [
    "FakeMetricsSource",
    "Labels",
    "MetricsSource",
    "PrometheusSource",
    "Sample",
    "Series",
    "labels_of",
]
