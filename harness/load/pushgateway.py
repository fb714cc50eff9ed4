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


def delete_group(pushgateway_url: str, run_id: str, timeout: float = 5.0) -> None:
    """Delete the group; without this its last values would be scraped forever. LoadError on failure."""
    url = group_url(pushgateway_url, run_id)
    try:
        response = httpx.delete(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise LoadError(f"could not delete Pushgateway group {url}: {exc}") from exc
    if response.status_code >= 300:
        raise LoadError(f"could not delete Pushgateway group {url}: HTTP {response.status_code}")
