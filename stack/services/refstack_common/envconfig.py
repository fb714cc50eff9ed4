"""Typed readers of environment variables for the services' frozen configs (read once, in ``__main__``).

A blank or missing variable means the default; a bad value raises ConfigError naming the variable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use; names the variable."""


class EnvReader:
    __slots__ = ("_env",)

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def _raw(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, got {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{name}: must be >= {minimum}, got {number}")
        return number

    def number(self, name: str, default: float, *, minimum: float) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
        if not number >= minimum or math.isinf(number):  # `not >=` also refuses nan
            raise ConfigError(f"{name}: must be a finite number >= {minimum}, got {value}")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {value!r}")

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() not in options:
            raise ConfigError(f"{name}: expected one of {', '.join(options)}, got {value!r}")
        return value.lower()
