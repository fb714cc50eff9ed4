"""Rule 4.2, shared library volume: common dependencies are shared through volumes, Python packages in
/opt/shared/python, model files in /opt/shared/models, configuration in /opt/shared/config.

What a compose file shows of it:
- a mount at (or inside) one of those paths comes from a named volume: a bind mount of a host path or an
  anonymous volume is no shared volume;
- a named volume mounted there by two or more services is read-only in each (one writer would change the
  dependencies under every other service);
- a service that installs Python packages when it starts (``pip install`` in its command) has its own copy,
  not the shared one, unless it installs into /opt/shared/python (it is what fills the volume).
Packages or models baked into an image are not visible here and are not judged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from harness.lint.config import LintConfig
from harness.lint.fields import Located
from harness.lint.findings import Finding
from harness.lint.model import ComposeModel, Service
from harness.lint.mounts import Mount
from harness.lint.rules.base import error

SHARED_PATHS = {
    "/opt/shared/python": "Python packages",
    "/opt/shared/models": "model files",
    "/opt/shared/config": "configuration",
}
PYTHON_PACKAGES = "/opt/shared/python"
PIP_INSTALL = re.compile(r"\bpip3?(\.\d+)?\s+install\b")
INTO_SHARED = re.compile(rf"(--target[= ]|-t\s*){re.escape(PYTHON_PACKAGES)}(/|\s|$)")


def _shared_path(mount: Mount) -> str | None:
    return next((path for path in SHARED_PATHS if mount.under(path)), None)


def check_shared_volumes(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    users: dict[str, list[tuple[Service, Located[Mount]]]] = defaultdict(list)
    for service in model.services:
        for located in service.volumes:
            mount = located.value
            path = _shared_path(mount)
            if path is None:
                continue
            what = SHARED_PATHS[path]
            if mount.kind == "volume" and mount.source:
                users[mount.source].append((service, located))
            elif mount.kind == "bind":
                yield error(
                    "4.2",
                    service,
                    located.loc,
                    f"{what} at {mount.target} from a bind mount of {mount.source}: share them through a "
                    "named volume",
                )
            else:
                source = "an anonymous volume" if mount.kind == "anonymous" else f"a {mount.kind} mount"
                yield error(
                    "4.2",
                    service,
                    located.loc,
                    f"{what} at {mount.target} from {source}: no other service can share it; mount a named volume",
                )
        yield from _installs_packages(service)
    for volume, mounts in users.items():
        services = sorted({s.name for s, _ in mounts})
        if len(services) < 2:
            continue
        for service, located in mounts:
            if not located.value.read_only:
                others = ", ".join(n for n in services if n != service.name)
                yield error(
                    "4.2",
                    service,
                    located.loc,
                    f"mounts the shared volume {volume} at {located.value.target} writable (shared with "
                    f"{others}): mount it read-only (:ro)",
                )


def _installs_packages(service: Service) -> Iterator[Finding]:
    if PIP_INSTALL.search(service.command) and not INTO_SHARED.search(service.command):
        yield error(
            "4.2",
            service,
            service.command_loc,
            "installs Python packages when it starts (pip install): each container gets its own copy; share "
            f"them from a volume at {PYTHON_PACKAGES}",
        )
