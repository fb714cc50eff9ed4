"""Container-metrics exporter: Docker API -> Prometheus text with cAdvisor's metric names.

Run with ``python3 -m exporter``. Everything but ``app``/``__main__`` uses only the standard library
(raw HTTP over the Docker socket), so it can be unit-tested from any interpreter.
"""
