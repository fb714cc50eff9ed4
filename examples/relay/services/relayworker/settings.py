"""The worker's settings, read once from the environment; a bad value stops it at start (exit 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    service: str  # the compose service: the logs' `service`
    port: int  # rule 5.3
    dependency: str  # its name in the metrics' `dependency` label: the fault proxy's proxy and the service
    dependency_url: str  # redis://host:port/db, through the fault proxy
    timeout_s: float  # every dependency call (rule 10.3)
    breaker_enabled: bool  # false: no breaker at all (the mutant breaker-off)
    failure_threshold: int  # rule 3.4: consecutive failures that open the breaker
    recovery_timeout_s: float  # rule 3.4: open -> half-open


def _flag(text: str, name: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{name}: expected true or false, got {text!r}")
    return text.lower() == "true"


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    def get(name: str, default: str | None = None) -> str:
        value = environ.get(name, default)
        if value is None or value == "":
            raise ValueError(f"{name}: required")
        return value

    def number(name: str, default: str) -> float:
        try:
            value = float(get(name, default))
        except ValueError:
            raise ValueError(f"{name}: not a number") from None
        if value <= 0:
            raise ValueError(f"{name}: must be above 0")
        return value

    return Settings(
        service=get("SERVICE_NAME"),
        port=int(number("PORT", "10150")),
        dependency=get("DEPENDENCY"),
        dependency_url=get("DEPENDENCY_URL"),
        timeout_s=number("DEPENDENCY_TIMEOUT_S", "2"),
        breaker_enabled=_flag(get("BREAKER_ENABLED", "true"), "BREAKER_ENABLED"),
        failure_threshold=int(number("BREAKER_FAILURE_THRESHOLD", "5")),
        recovery_timeout_s=number("BREAKER_RESET_TIMEOUT_S", "30"),
    )
