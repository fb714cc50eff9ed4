"""Agent configuration: one frozen dataclass read from the environment once, in __main__.

Pure module (stdlib and refstack_common only) so the project's test interpreter can import it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from refstack_common.envconfig import ConfigError, EnvReader

# breaker and metric labels of the dependencies; peers are labelled by their own names
DEPENDENCY_NAMES = ("redis", "postgres", "rabbitmq", "ollama")


@dataclasses.dataclass(frozen=True, slots=True)
class Peer:
    name: str
    url: str


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    port: int = 10100
    bind_host: str = "0.0.0.0"
    agent_name: str = "agent"
    redis_url: str = ""
    postgres_dsn: str = ""
    amqp_url: str = ""
    ollama_url: str = ""
    postgres_password_file: str = ""
    rabbitmq_password_file: str = ""
    peers: tuple[Peer, ...] = ()
    breaker_enabled: bool = True
    breaker_failure_threshold: int = 5
    breaker_reset_timeout_s: float = 30.0
    fallback_enabled: bool = True
    dependency_timeout_s: float = 2.0
    retry_max_retries: int = 3
    """Retries after a first attempt of background work, then the series gives up (rule 10.2; a high value:
    mutant retry-forever)."""
    retry_initial_delay_s: float = 1.0
    """The wait before the first retry (0: mutant no-retry-backoff)."""
    retry_multiplier: float = 2.0
    retry_cooldown_s: float = 30.0
    """A long-lived loop's pause after a series gave up, before a new series (the breakers' reset timeout)."""
    max_concurrent: int = 10
    model_pool_bytes: int = 67108864
    model_size_bytes: int = 25165824
    model_pool_evict: bool = True
    idle_timeout_s: float = 300.0
    state_save_interval_s: float = 300.0
    state_dir: str = "/var/lib/agent"
    sigterm_handling: str = "graceful"
    state_restore: bool = True
    hibernate_release: bool = True
    shutdown_delay_s: float = 0.0
    task_delay_s: float = 0.0
    """Extra time each task takes (TASK_DELAY_MS): a drift under every threshold (mutant latency-plus-30)."""
    health_delay_s: float = 0.0
    """Time /health waits before it answers (HEALTH_DELAY_MS): rule 8.1's < 1 s broken (mutant slow-health)."""
    ollama_model: str = "tinyllama"
    ollama_num_predict: int = 8
    queue_consume: bool = False
    queue_priority: bool = True
    """QUEUE_PRIORITY=false declares the task queue without x-max-priority: rule 3.3 broken (mutant no-priority)."""
    queue_dead_letter: bool = True
    """QUEUE_DEAD_LETTER=false declares it without a dead-letter exchange: rule 3.3 broken (mutant no-dead-letter)."""
    log_format: str = "json"
    """LOG_FORMAT=text writes plain-text lines: rule 7.2 broken (mutant logs-not-json)."""
    trace_propagation: bool = True
    """TRACE_PROPAGATION=false sends calls a fresh trace id: rule 7.3 broken (mutant trace-id-dropped)."""
    cache_enabled: bool = True
    """CACHE_ENABLED=false never looks a result up in Redis nor writes one: rule 8.3 broken (mutant no-cache)."""
    memory_turns: int = 3
    """The agent's recent exchanges kept in Redis (MEMORY_TURNS) and given to the model before each new
    input: read as the cache is looked up, written after the answer (0: no memory)."""

    @property
    def timeout(self) -> float | None:
        """The per-call timeout, None when DEPENDENCY_TIMEOUT_S=0 (the no-timeout mutant)."""
        return self.dependency_timeout_s if self.dependency_timeout_s > 0 else None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        r = EnvReader(env)
        return cls(
            port=r.integer("PORT", 10100, minimum=1),
            bind_host=r.text("BIND_HOST", "0.0.0.0"),
            agent_name=r.text("AGENT_NAME", "agent") or "agent",
            redis_url=r.text("REDIS_URL", ""),
            postgres_dsn=r.text("POSTGRES_DSN", ""),
            amqp_url=r.text("AMQP_URL", ""),
            ollama_url=r.text("OLLAMA_URL", "").rstrip("/"),
            postgres_password_file=r.text("POSTGRES_PASSWORD_FILE", ""),
            rabbitmq_password_file=r.text("RABBITMQ_PASSWORD_FILE", ""),
            peers=parse_peers(r.text("PEERS", "")),
            breaker_enabled=r.boolean("BREAKER_ENABLED", True),
            breaker_failure_threshold=r.integer("BREAKER_FAILURE_THRESHOLD", 5, minimum=1),
            breaker_reset_timeout_s=r.number("BREAKER_RESET_TIMEOUT_S", 30.0, minimum=0.0),
            fallback_enabled=r.boolean("FALLBACK_ENABLED", True),
            dependency_timeout_s=r.number("DEPENDENCY_TIMEOUT_S", 2.0, minimum=0.0),
            retry_max_retries=r.integer("RETRY_MAX_RETRIES", 3, minimum=0),
            retry_initial_delay_s=r.number("RETRY_INITIAL_DELAY_S", 1.0, minimum=0.0),
            retry_multiplier=r.number("RETRY_MULTIPLIER", 2.0, minimum=1.0),
            retry_cooldown_s=r.number("RETRY_COOLDOWN_S", 30.0, minimum=0.0),
            max_concurrent=r.integer("MAX_CONCURRENT", 10, minimum=0),
            model_pool_bytes=r.integer("MODEL_POOL_BYTES", 67108864, minimum=0),
            model_size_bytes=r.integer("MODEL_SIZE_BYTES", 25165824, minimum=1),
            model_pool_evict=r.boolean("MODEL_POOL_EVICT", True),
            idle_timeout_s=r.number("IDLE_TIMEOUT_S", 300.0, minimum=0.0),
            state_save_interval_s=r.number("STATE_SAVE_INTERVAL_S", 300.0, minimum=0.0),
            state_dir=r.text("STATE_DIR", "/var/lib/agent") or "/var/lib/agent",
            sigterm_handling=r.choice("SIGTERM_HANDLING", "graceful", ("graceful", "ignore")),
            state_restore=r.boolean("STATE_RESTORE", True),
            hibernate_release=r.boolean("HIBERNATE_RELEASE", True),
            shutdown_delay_s=r.number("SHUTDOWN_DELAY_S", 0.0, minimum=0.0),
            task_delay_s=r.number("TASK_DELAY_MS", 0.0, minimum=0.0) / 1000.0,
            health_delay_s=r.number("HEALTH_DELAY_MS", 0.0, minimum=0.0) / 1000.0,
            ollama_model=r.text("OLLAMA_MODEL", "tinyllama") or "tinyllama",
            ollama_num_predict=r.integer("OLLAMA_NUM_PREDICT", 8, minimum=1),
            log_format=r.choice("LOG_FORMAT", "json", ("json", "text")),
            trace_propagation=r.boolean("TRACE_PROPAGATION", True),
            cache_enabled=r.boolean("CACHE_ENABLED", True),
            memory_turns=r.integer("MEMORY_TURNS", 3, minimum=0),
            queue_priority=r.boolean("QUEUE_PRIORITY", True),
            queue_dead_letter=r.boolean("QUEUE_DEAD_LETTER", True),
            queue_consume=_queue_consume(r.choice("QUEUE_CONSUME", "auto", ("auto", "true", "false")), env),
        )


def _queue_consume(mode: str, env: Mapping[str, str]) -> bool:
    """auto: an agent with AMQP_URL and POSTGRES_DSN but no PEERS is the leaf worker that stores
    queued tasks (the indexer); set QUEUE_CONSUME explicitly for any other layout."""
    if mode == "auto":
        return (
            all(env.get(name, "").strip() for name in ("AMQP_URL", "POSTGRES_DSN"))
            and not env.get("PEERS", "").strip()
        )
    return mode == "true"


def parse_peers(text: str) -> tuple[Peer, ...]:
    """`name=http://host:port,name2=...` -> peers; blank items are ignored."""
    peers: list[Peer] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ConfigError(f"PEERS: expected name=http://host:port, got {item!r}")
        if any(p.name == name for p in peers):
            raise ConfigError(f"PEERS: peer {name!r} listed twice")
        if name in DEPENDENCY_NAMES:
            raise ConfigError(f"PEERS: {name!r} is the name of a dependency's breaker; choose another")
        peers.append(Peer(name, url))
    return tuple(peers)
