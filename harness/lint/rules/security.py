"""Rules 9.1 (internal networks), 9.2 (no literal secrets), 9.3 (non-root user)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.lint.config import LintConfig
from harness.lint.findings import Finding
from harness.lint.interpolate import Interpolated
from harness.lint.model import ComposeModel, Located
from harness.lint.rules.base import error, warning
from harness.lint.rules.ports import LOOPBACK, may_publish_on_loopback


def check_networks(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        if service.tier.value == "gateway":
            continue
        if (
            service.ports
            and may_publish_on_loopback(service, config)
            and all(p.value.host_ip in LOOPBACK for p in service.ports)
        ):
            continue  # publishing on loopback (allowed by 3.2's configuration) needs a non-internal network
        mode = service.network_mode
        if mode is not None:
            if mode.value == "host":
                yield error(
                    "9.1", service, mode.loc, "network_mode: host shares the host's network: no isolation"
                )
            continue  # none, service:x and container:x share another's isolation
        joined = service.networks or (Located("default", service.loc),)
        for net in joined:
            network = model.networks.get(net.value)
            if network is not None and network.internal:
                continue
            if network is not None and network.external:
                yield warning(
                    "9.1",
                    service,
                    net.loc,
                    f"network {net.value} is external: cannot verify it is internal (only the gateway's may not be)",
                )
                continue
            where = (
                "the default network"
                if net.value == "default" and network is None
                else f"network {net.value}"
            )
            yield error(
                "9.1", service, net.loc, f"joins {where}, which is not internal: true{service.tier_note()}"
            )


_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@", re.IGNORECASE)
# A secret word qualified by one of these is still a secret (SECRET_KEY_BASE, API_KEY_VALUE).
_QUALIFIERS = frozenset({"BASE", "VALUE", "DATA", "STRING", "PLAIN", "RAW"})
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off"})


def _literal(value: str | None) -> bool:
    return value is not None and not isinstance(value, Interpolated) and "$" not in value


def _secret_name(name: str, secret_word: re.Pattern[str]) -> bool:
    """The name ends in a secret word (DB_PASSWORD, GITHUB_TOKEN), perhaps qualified (SECRET_KEY_BASE);
    a secret word elsewhere (TOKEN_CPU_MS, PASSWORD_FILE) names something else."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.upper()) if w]
    if words and words[-1] in _QUALIFIERS:
        words = words[:-1]
    return bool(words) and secret_word.fullmatch(words[-1]) is not None


def check_secrets(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    secret_word = re.compile(config.secret_names, re.IGNORECASE)
    for service in model.services:
        for name, located in service.environment.items():
            value = located.value
            if value is None or not value or not _literal(value):
                continue
            if _secret_name(name, secret_word) and value.lower() not in _BOOLEANS:
                yield error(
                    "9.2",
                    service,
                    located.loc,
                    f"{name} holds a literal secret: use ${{VAR}}, compose secrets or a *_FILE variable",
                )
                continue
            match = _URL_PASSWORD.search(value)
            if match and not match.group(1).startswith("$"):
                yield error("9.2", service, located.loc, f"{name} is a URL with a literal password")


_ROOT = re.compile(r"^(root|0)(:.*)?$")


def check_user(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        user, built = service.user, service.image_user
        if user is not None and user.value.strip():
            if _ROOT.match(user.value.strip()):
                yield error("9.3", service, user.loc, f"user {user.value} is root")
        elif built is not None and built.user:
            if _ROOT.match(built.user):
                yield error(
                    "9.3",
                    service,
                    service.loc,
                    f"{built.dockerfile}:{built.line} sets USER {built.user}: root",
                )
        else:
            where = f" nor in {built.dockerfile}" if built is not None else ""
            yield error(
                "9.3",
                service,
                service.loc,
                f"no user in the compose file{where}: runs as the image's default user, usually root",
            )
