from __future__ import annotations

import argparse

import httpx

from harness.commands._stack_options import add_labels_option, add_stack_options, open_stack
from harness.errors import MeasurementError

HELP = "print every service (phase, tier, pool, health) and Prometheus's targets; exit 1 if any is down"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    add_labels_option(parser)
    parser.add_argument("--prometheus", default="http://127.0.0.1:10400", help="Prometheus base URL")


def prometheus_targets(base_url: str) -> list[tuple[str, str, str]]:
    """(job, instance, health) of every active target."""
    try:
        response = httpx.get(f"{base_url}/api/v1/targets", params={"state": "active"}, timeout=5)
        response.raise_for_status()
        targets = response.json()["data"]["activeTargets"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise MeasurementError(f"Prometheus at {base_url} cannot be read: {exc}") from exc
    return [(t["labels"].get("job", "?"), t["labels"].get("instance", "?"), t["health"]) for t in targets]


def run(args: argparse.Namespace) -> int:
    stack, project = open_stack(args)
    problems = 0
    print(f"{'service':<22} {'phase':>5}  {'tier':<15} {'pool':<15} health")
    for service in sorted(project.services, key=lambda s: (s.phase, s.name)):
        health = stack.health(service.name) if stack.containers(service.name) else "absent"
        problems += not stack.is_ready(service.name, health)
        print(
            f"{service.name:<22} {service.phase:>5}  {service.tier or '-':<15} {service.pool or '-':<15} {health}"
        )
    targets = prometheus_targets(args.prometheus)
    print(f"\nPrometheus {args.prometheus}: {len(targets)} targets")
    for job, instance, health in sorted(targets):
        problems += health != "up"
        print(f"  {job:<12} {instance:<28} {health}")
    return 1 if problems else 0
