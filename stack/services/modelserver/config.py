"""Settings of the model server, read once from the environment by ``__main__``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from refstack_common.envconfig import EnvReader

from .catalog import DEFAULT_CATALOG, Model, parse_catalog
from .durations import parse_duration

DEFAULT_PORT = 10110


@dataclass(frozen=True, slots=True)
class Config:
    host: str
    port: int
    num_parallel: int  # generations running at once; more wait in the queue
    max_queue: int  # requests allowed to wait; beyond it 503
    max_loaded_models: int
    keep_alive_s: float  # idle time before a model is unloaded; math.inf = never
    cpu_limit: float  # 0 = no cap on burner threads
    catalog: tuple[Model, ...]
    token_cpu_ms: float  # CPU time burnt per generated token
    default_num_predict: int
    max_num_predict: int
    service: str
    log_level: str

    @property
    def burner_threads(self) -> int:
        """Threads burning CPU: one per parallel slot, capped by OLLAMA_CPU_LIMIT (rule 12.1)."""
        if self.cpu_limit > 0:
            return max(1, min(self.num_parallel, math.ceil(self.cpu_limit)))
        return self.num_parallel


def parse_host(raw: str) -> tuple[str, int]:
    """OLLAMA_HOST as Ollama accepts it: "0.0.0.0:10110", "http://host:port", "host" or ":port"."""
    text = raw.strip()
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    text = text.rstrip("/")
    if not text:
        return "0.0.0.0", DEFAULT_PORT
    host, sep, port_text = text.rpartition(":")
    if not sep or "]" in port_text:
        return text.strip("[]"), DEFAULT_PORT
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"OLLAMA_HOST={raw!r}: port {port_text!r} is not an integer") from None
    return (host.strip("[]") or "0.0.0.0"), port


def load_config(env: Mapping[str, str]) -> Config:
    """Build the config from an environment mapping; ValueError names the bad variable."""
    r = EnvReader(env)
    host, port = parse_host(env.get("OLLAMA_HOST", ""))
    port = r.integer("PORT", port, minimum=1)
    if port > 65535:
        raise ValueError(f"port {port} is out of range")
    keep_alive_raw = r.text("OLLAMA_KEEP_ALIVE", "5m")
    try:
        keep_alive_s = parse_duration(keep_alive_raw)
    except ValueError:
        raise ValueError(f"OLLAMA_KEEP_ALIVE={keep_alive_raw!r} is not a duration") from None
    try:
        catalog = parse_catalog(r.text("MODEL_CATALOG", DEFAULT_CATALOG))
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    default_num_predict = r.integer("DEFAULT_NUM_PREDICT", 32, minimum=1)
    max_num_predict = r.integer("MAX_NUM_PREDICT", 1024, minimum=1)
    return Config(
        host=host,
        port=port,
        num_parallel=r.integer("OLLAMA_NUM_PARALLEL", 2, minimum=1),
        max_queue=r.integer("OLLAMA_MAX_QUEUE", 16, minimum=0),
        max_loaded_models=r.integer("OLLAMA_MAX_LOADED_MODELS", 1, minimum=1),
        keep_alive_s=keep_alive_s,
        cpu_limit=r.number("OLLAMA_CPU_LIMIT", 0.0, minimum=0.0),
        catalog=catalog,
        token_cpu_ms=r.number("TOKEN_CPU_MS", 10.0, minimum=0.0),
        default_num_predict=min(default_num_predict, max_num_predict),
        max_num_predict=max_num_predict,
        service=r.text("SERVICE_NAME", "ollama"),
        log_level=r.text("LOG_LEVEL", "INFO").upper(),
    )
