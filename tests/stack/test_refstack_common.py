"""The stack services' shared JSON log format and environment readers (stdlib only, venv-importable)."""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from refstack_common import jsonlog
from refstack_common.envconfig import ConfigError, EnvReader


def _record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("svc", logging.WARNING, __file__, 1, message, args or ("world",), None)
    record.created = 1_700_000_000.0125  # 2023-11-14T22:13:20.012Z
    record.__dict__.update(jsonlog.fields(**extra))
    return record


def test_line_is_the_stack_format_in_order() -> None:
    out = json.loads(jsonlog.JsonFormatter("exporter").format(_record(port=10401)))
    assert list(out) == ["timestamp", "level", "service", "message", "logger", "port"]
    assert out == {
        "timestamp": "2023-11-14T22:13:20.012Z",
        "level": "WARNING",
        "service": "exporter",
        "message": "hello world",
        "logger": "svc",
        "port": 10401,
    }


def test_context_fields_come_before_extras_and_extras_never_override() -> None:
    formatter = jsonlog.JsonFormatter("agent", lambda: {"trace_id": "t1"})
    out = json.loads(formatter.format(_record(service="forged", trace_id="forged", task_id="7")))
    assert list(out)[4:] == ["logger", "trace_id", "task_id"]
    assert (out["service"], out["trace_id"], out["task_id"]) == ("agent", "t1", "7")


def test_exception_and_unserializable_values() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("svc", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.__dict__.update(jsonlog.fields(when=object()))
    out = json.loads(jsonlog.JsonFormatter("x").format(record))
    assert "RuntimeError: boom" in out["exception"]
    assert out["when"].startswith("<object object")


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("aiohttp.access").disabled)
    yield
    root.handlers[:], level, logging.getLogger("aiohttp.access").disabled = saved
    root.setLevel(level)


@dataclass(frozen=True, slots=True)
class _Config:
    service: str
    log_level: str


def _load(env: dict[str, str]) -> _Config:
    return _Config(EnvReader(env).text("SERVICE_NAME", "svc"), "DEBUG")


def test_configure_sets_up_logging_at_the_configs_service_and_level(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = jsonlog.configure(_load, {"SERVICE_NAME": "named"}, logger="svc", default_service="fallback")
    assert config == _Config("named", "DEBUG")
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("aiohttp.access").disabled
    logging.getLogger("svc").debug("ready")
    assert json.loads(capsys.readouterr().out)["service"] == "named"


def test_configure_logs_one_line_for_a_bad_value(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(env: dict[str, str]) -> _Config:
        raise ConfigError("PORT: expected an integer, got 'x'")

    assert jsonlog.configure(refuse, {}, logger="svc", default_service="fallback") is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", out["timestamp"])
    assert (out["level"], out["service"], out["logger"]) == ("ERROR", "fallback", "svc")
    assert out["message"] == "bad configuration: PORT: expected an integer, got 'x'"


def test_blank_or_missing_means_default_and_values_are_stripped() -> None:
    r = EnvReader({"A": "  ", "B": " 7 ", "C": " on ", "D": " Ignore "})
    assert r.text("A", "dflt") == "dflt" and r.text("MISSING", "dflt") == "dflt"
    assert r.integer("B", 1, minimum=0) == 7 and r.integer("A", 3, minimum=0) == 3
    assert r.number("B", 1.0, minimum=0.0) == 7.0
    assert r.boolean("C", False) is True and r.boolean("A", True) is True
    assert r.choice("D", "graceful", ("graceful", "ignore")) == "ignore"


@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.integer("V", 1, minimum=1),
        lambda r: r.number("V", 1.0, minimum=0.0),
        lambda r: r.boolean("V", True),
        lambda r: r.choice("V", "a", ("a", "b")),
    ],
)
@pytest.mark.parametrize("value", ["x", "-5", "nan", "inf"])
def test_bad_values_raise_a_config_error_naming_the_variable(
    read: Callable[[EnvReader], object], value: str
) -> None:
    with pytest.raises(ConfigError, match=r"^V: ") as caught:
        read(EnvReader({"V": value}))
    assert isinstance(caught.value, ValueError)  # entry points catch ValueError


def test_limits() -> None:
    r = EnvReader({"ZERO": "0", "TENTH": "0.1", "BIG": "1e308"})
    assert r.integer("ZERO", 5, minimum=0) == 0
    assert r.number("TENTH", 1.0, minimum=0.1) == 0.1
    assert math.isfinite(r.number("BIG", 1.0, minimum=0.0))
    with pytest.raises(ConfigError, match="ZERO: must be >= 1, got 0"):
        r.integer("ZERO", 5, minimum=1)
    with pytest.raises(ConfigError, match="TENTH"):
        r.number("TENTH", 1.0, minimum=0.5)
