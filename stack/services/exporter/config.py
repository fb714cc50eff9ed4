"""Settings of the exporter, read once from the environment by ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from refstack_common.envconfig import EnvReader

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


def load_config(env: Mapping[str, str]) -> Config:
    """Build the config from an environment mapping; ValueError names the bad variable."""
    r = EnvReader(env)
    port = r.integer("PORT", DEFAULT_PORT, minimum=1)
    if port > 65535:
        raise ValueError(f"PORT: must be <= 65535, got {port}")
    docker_host = r.text("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not docker_host.startswith(("unix://", "tcp://", "http://")):
        raise ValueError(f"DOCKER_HOST={docker_host!r}: only unix:// and tcp:// are supported")
    raw_filter = env.get("EXPORTER_LABEL_FILTER", DEFAULT_LABEL_FILTER)  # set but blank = every container
    return Config(
        host=r.text("HOST", "0.0.0.0"),
        port=port,
        docker_host=docker_host,
        docker_api_version=r.text("DOCKER_API_VERSION", "1.41"),
        label_filters=tuple(part.strip() for part in raw_filter.split(",") if part.strip()),
        scrape_interval_s=r.number("SCRAPE_INTERVAL_S", 1.0, minimum=0.1),
        docker_timeout_s=r.number("DOCKER_TIMEOUT_S", 3.0, minimum=0.1),
        workers=r.integer("EXPORTER_WORKERS", 32, minimum=1),
        service=r.text("SERVICE_NAME", "exporter"),
        log_level=r.text("LOG_LEVEL", "INFO").upper(),
    )
