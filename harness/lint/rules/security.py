"""Rules 9.1 (internal networks), 9.2 (no literal secrets), 9.3 (non-root user)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.lint.config import LintConfig
from harness.lint.findings import Finding
from harness.lint.interpolate import Interpolated
from harness.lint.model import ComposeModel, Located
from harness.lint.rules.base import error, warning
from harness.lint.rules.ports import LOOPBACK


def check_networks(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    for service in model.services:
        if service.tier.value == "gateway":
            continue
        if (
            service.ports
            and service.tier.value in config.publish_on_loopback
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
_NOT_SECRETS = frozenset({"FILE", "PATH", "DIR", "URL", "HOST", "PORT", "USER", "USERNAME", "NAME", "ID"})
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off"})


def _literal(value: str | None) -> bool:
    return value is not None and not isinstance(value, Interpolated) and "$" not in value


def check_secrets(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    secret_word = re.compile(config.secret_names, re.IGNORECASE)
    for service in model.services:
        for name, located in service.environment.items():
            value = located.value
            if not _literal(value) or not value:
                continue
            assert value is not None
            words = [w for w in re.split(r"[^A-Za-z0-9]+", name.upper()) if w]
            secret_name = (
                bool(words) and words[-1] not in _NOT_SECRETS and any(map(secret_word.fullmatch, words))
            )
            if secret_name and value.lower() not in _BOOLEANS:
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
        user = service.user
        if user is None or not user.value.strip():
            yield error(
                "9.3",
                service,
                service.loc,
                "no user: runs as the image's default user, root unless the image says otherwise",
            )
        elif _ROOT.match(user.value.strip()):
            yield error("9.3", service, user.loc, f"user {user.value} is root")
