"""The one Pushgateway call the harness makes: delete a run's group once Prometheus has scraped it."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from harness.load.driver import LoadError

JOB = "locust"
"""The job of the groups load/locustfile.py pushes (grouping key instance=<run id>)."""


def group_url(pushgateway_url: str, run_id: str, job: str = JOB) -> str:
    return (
        f"{pushgateway_url.rstrip('/')}/metrics/job/{quote(job, safe='')}/instance/{quote(run_id, safe='')}"
    )


def delete_group(pushgateway_url: str, run_id: str, timeout: float = 5.0, job: str = JOB) -> None:
    """Delete the group; without this its last values would be scraped forever. LoadError on failure."""
    url = group_url(pushgateway_url, run_id, job)
    try:
        response = httpx.delete(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise LoadError(f"could not delete Pushgateway group {url}: {exc}") from exc
    if response.status_code >= 300:
        raise LoadError(f"could not delete Pushgateway group {url}: HTTP {response.status_code}")


def delete_stale_groups(pushgateway_url: str, timeout: float = 5.0, job: str = JOB) -> tuple[str, ...]:
    """Delete every group of ``job`` (job="locust" by default), e.g. those a killed harness left (for
    ``harness clean``; never while a run is on). Returns the run ids deleted; LoadError when the
    Pushgateway cannot be read."""
    url = f"{pushgateway_url.rstrip('/')}/api/v1/metrics"
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        groups = response.json()["data"]
        labels = [group["labels"] for group in groups]
        run_ids = [group["instance"] for group in labels if group.get("job") == job and "instance" in group]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"could not list Pushgateway groups at {url}: {exc}") from exc
    for run_id in run_ids:
        delete_group(pushgateway_url, run_id, timeout, job)
    return tuple(run_ids)
