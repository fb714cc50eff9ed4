"""Chaos and SLA verification harness for Docker Compose stacks.

The harness knows a stack only through its compose files and their labels, slas.yaml, HTTP,
the Docker API, the fault proxy's API and Prometheus (see README.md, "Boundaries").

PYTEST_DONT_REWRITE: `harness run` imports this package before it starts pytest, which then finds the
package as an installed plugin and would warn that it is too late to rewrite its asserts; the harness
has no test asserts to rewrite, so pytest is told not to try.
"""
