import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.config import Config, ConfigError, Peer, parse_peers


def test_defaults_match_the_contract() -> None:
    cfg = Config.from_env({})
    assert cfg.port == 10100
    assert cfg.agent_name == "agent"
    assert (cfg.redis_url, cfg.postgres_dsn, cfg.amqp_url, cfg.ollama_url) == ("", "", "", "")
    assert cfg.peers == ()
    assert cfg.breaker_enabled and cfg.fallback_enabled and cfg.model_pool_evict
    assert cfg.breaker_failure_threshold == 5
    assert cfg.breaker_reset_timeout_s == 30.0
    assert cfg.dependency_timeout_s == 2.0 and cfg.timeout == 2.0
    assert (cfg.retry_max_retries, cfg.retry_initial_delay_s, cfg.retry_multiplier) == (3, 1.0, 2.0)
    assert cfg.retry_cooldown_s == 30.0
    assert cfg.max_concurrent == 10
    assert cfg.model_pool_bytes == 67108864 and cfg.model_size_bytes == 25165824
    assert cfg.idle_timeout_s == 300.0 and cfg.state_save_interval_s == 300.0
    assert cfg.state_dir == "/var/lib/agent"
    assert cfg.sigterm_handling == "graceful"
    assert cfg.state_restore and cfg.hibernate_release and cfg.shutdown_delay_s == 0.0
    assert cfg.task_delay_s == 0.0 and cfg.health_delay_s == 0.0
    assert (cfg.ollama_model, cfg.ollama_num_predict) == ("tinyllama", 8)
    assert not cfg.queue_consume
    assert cfg.log_format == "json" and cfg.trace_propagation


def test_mutant_knobs() -> None:
    cfg = Config.from_env(
        {
            "BREAKER_ENABLED": "false",
            "BREAKER_FAILURE_THRESHOLD": "10",
            "BREAKER_RESET_TIMEOUT_S": "60",
            "FALLBACK_ENABLED": "0",
            "DEPENDENCY_TIMEOUT_S": "0",
            "MAX_CONCURRENT": "0",
            "MODEL_POOL_EVICT": "no",
            "SIGTERM_HANDLING": "IGNORE",
            "STATE_RESTORE": "false",
            "HIBERNATE_RELEASE": "false",
            "SHUTDOWN_DELAY_S": "30",
            "TASK_DELAY_MS": "50",
            "HEALTH_DELAY_MS": "1200",
            "LOG_FORMAT": "text",
            "TRACE_PROPAGATION": "false",
            "RETRY_INITIAL_DELAY_S": "0",
            "RETRY_MAX_RETRIES": "1000000",
        }
    )
    assert cfg.retry_initial_delay_s == 0.0 and cfg.retry_max_retries == 1000000
    assert cfg.log_format == "text" and not cfg.trace_propagation
    assert cfg.task_delay_s == 0.05 and cfg.health_delay_s == 1.2
    assert not cfg.state_restore and not cfg.hibernate_release and cfg.shutdown_delay_s == 30.0
    assert not cfg.breaker_enabled and not cfg.fallback_enabled and not cfg.model_pool_evict
    assert cfg.breaker_failure_threshold == 10 and cfg.breaker_reset_timeout_s == 60.0
    assert cfg.timeout is None
    assert cfg.max_concurrent == 0
    assert cfg.sigterm_handling == "ignore"


def test_config_is_frozen() -> None:
    cfg = Config.from_env({})
    with pytest.raises(AttributeError):
        cfg.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "0"),
        ("BREAKER_FAILURE_THRESHOLD", "0"),
        ("DEPENDENCY_TIMEOUT_S", "-1"),
        ("DEPENDENCY_TIMEOUT_S", "nan"),
        ("BREAKER_RESET_TIMEOUT_S", "inf"),
        ("BREAKER_ENABLED", "maybe"),
        ("SIGTERM_HANDLING", "kill"),
        ("RETRY_MULTIPLIER", "0.5"),
        ("RETRY_MAX_RETRIES", "-1"),
        ("RETRY_COOLDOWN_S", "-1"),
        ("MAX_CONCURRENT", "-1"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_blank_values_mean_default() -> None:
    assert Config.from_env({"PORT": " ", "AGENT_NAME": ""}).port == 10100


def test_peers() -> None:
    assert parse_peers(
        " agent-summarizer=http://agent-summarizer:10200/ , agent-indexer=http://i:10201,"
    ) == (
        Peer("agent-summarizer", "http://agent-summarizer:10200"),
        Peer("agent-indexer", "http://i:10201"),
    )
    for bad in ("nourl", "a=ftp://x", "=http://x", "a=http://x,a=http://y", "redis=http://x"):
        with pytest.raises(ConfigError, match="PEERS"):
            parse_peers(bad)


def test_queue_consumer_auto_is_the_leaf_agent_storing_tasks() -> None:
    leaf = {"AMQP_URL": "amqp://r", "POSTGRES_DSN": "postgresql://p/db"}
    assert Config.from_env(leaf).queue_consume
    assert not Config.from_env({**leaf, "PEERS": "a=http://a:1"}).queue_consume
    assert not Config.from_env({"AMQP_URL": "amqp://r"}).queue_consume  # nothing to store tasks in
    assert not Config.from_env({}).queue_consume
    assert Config.from_env(
        {"AMQP_URL": "amqp://r", "PEERS": "a=http://a:1", "QUEUE_CONSUME": "true"}
    ).queue_consume
    assert not Config.from_env({"AMQP_URL": "amqp://r", "QUEUE_CONSUME": "false"}).queue_consume
