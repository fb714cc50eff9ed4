"""The two Compose CLIs the lint judges a file for, which one this machine has, and what each accepts.

- ``v1``: docker-compose 1.29 (Python). It validates services against its ``compose_spec.json`` and,
  since 1.29, always turns ``deploy.resources`` into container limits as ``--compatibility`` once did
  (``compose/project.py``, ``translate_deploy_keys_to_container_config``).
- ``v2``: ``docker compose`` (compose-go). It knows the newer service keys of the Compose
  Specification and refuses ``mem_limit``/``cpus``/``mem_reservation`` that disagree with
  ``deploy.resources`` (compose-go ``loader/validate.go``, ``checkConsistency``).

How each resolves the resource keys is in ``harness/lint/limits.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

ComposeCli = Literal["v1", "v2"]
CLIS: tuple[ComposeCli, ...] = ("v1", "v2")

# docker-compose 1.29.2, compose/config/compose_spec.json: definitions.service.properties.
V1_SERVICE_KEYS = frozenset(
    [
        "blkio_config",
        "build",
        "cap_add",
        "cap_drop",
        "cgroup_parent",
        "command",
        "configs",
        "container_name",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpus",
        "cpuset",
        "credential_spec",
        "depends_on",
        "deploy",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extends",
        "external_links",
        "extra_hosts",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "ipc",
        "isolation",
        "labels",
        "links",
        "logging",
        "mac_address",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "network_mode",
        "networks",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "platform",
        "ports",
        "privileged",
        "profiles",
        "pull_policy",
        "read_only",
        "restart",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "user",
        "userns_mode",
        "volumes",
        "volumes_from",
        "working_dir",
    ]
)
# compose-spec/compose-spec, schema/compose-spec.json (2025): the keys docker-compose 1.29 predates.
V2_SERVICE_KEYS = V1_SERVICE_KEYS | frozenset(
    [
        "annotations",
        "attach",
        "cgroup",
        "develop",
        "gpus",
        "label_file",
        "models",
        "post_start",
        "pre_stop",
        "provider",
        "pull_refresh_after",
        "use_api_socket",
        "uts",
    ]
)
SERVICE_KEYS: dict[ComposeCli, frozenset[str]] = {"v1": V1_SERVICE_KEYS, "v2": V2_SERVICE_KEYS}

# Where the docker CLI looks for its compose plugin (docker/cli, cli-plugins/manager).
_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _has_compose_plugin() -> bool:
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    dirs = (config / "cli-plugins", *(Path(d) for d in _PLUGIN_DIRS))
    return shutil.which("docker") is not None and any((d / "docker-compose").is_file() for d in dirs)


def _is_python_script(path: str) -> bool:
    """docker-compose 1.x is a Python script; the 2.x standalone binary is not."""
    try:
        with open(path, "rb") as file:
            first = file.readline(256)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def detect() -> ComposeCli:
    """The CLI this machine runs: the ``docker compose`` plugin, else docker-compose 1.x, else v2.

    Only files are looked at (no process is started), so the lint stays fast."""
    if _has_compose_plugin():
        return "v2"
    standalone = shutil.which("docker-compose")
    return "v1" if standalone and _is_python_script(standalone) else "v2"
