"""Settings of the exporter, read once from the environment by ``__main__``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORT = 10401
DEFAULT_LABEL_FILTER = "com.docker.compose.project"


@dataclass(frozen=True, slots=True)
class Config:
    host: str
    port: int
    docker_host: str
    docker_api_version: str
    label_filters: tuple[str, ...]  # docker "label" filters, ANDed; empty = every container
    scrape_interval_s: float
    docker_timeout_s: float
    workers: int
    service: str
    log_level: str

    @property
    def stale_after_s(self) -> float:
        """Container series are withheld when the last good snapshot is older than this."""
        return max(10.0, 3 * self.scrape_interval_s)


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum or math.isinf(value):
        raise ValueError(f"{name}={raw!r} must be a finite number >= {minimum}")
    return value


def load_config(env: Mapping[str, str]) -> Config:
    """Build the config from an environment mapping; ValueError names the bad variable."""
    port = _number(env, "PORT", DEFAULT_PORT, 1)
    if port > 65535 or not float(port).is_integer():
        raise ValueError(f"PORT={env.get('PORT')!r} is not a port number")
    docker_host = env.get("DOCKER_HOST", "").strip() or "unix:///var/run/docker.sock"
    if not docker_host.startswith(("unix://", "tcp://", "http://")):
        raise ValueError(f"DOCKER_HOST={docker_host!r}: only unix:// and tcp:// are supported")
    raw_filter = env.get("EXPORTER_LABEL_FILTER", DEFAULT_LABEL_FILTER)
    workers = _number(env, "EXPORTER_WORKERS", 32, 1)
    return Config(
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=int(port),
        docker_host=docker_host,
        docker_api_version=env.get("DOCKER_API_VERSION", "").strip() or "1.41",
        label_filters=tuple(part.strip() for part in raw_filter.split(",") if part.strip()),
        scrape_interval_s=_number(env, "SCRAPE_INTERVAL_S", 1.0, 0.1),
        docker_timeout_s=_number(env, "DOCKER_TIMEOUT_S", 3.0, 0.1),
        workers=int(workers),
        service=env.get("SERVICE_NAME", "").strip() or "exporter",
        log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
    )
