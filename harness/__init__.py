"""Chaos and SLA verification harness for Docker Compose stacks.

The harness knows a stack only through its compose files and their labels, slas.yaml, HTTP,
the Docker API, the fault proxy's API and Prometheus (see README.md, "Boundaries").
"""
