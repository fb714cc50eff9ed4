"""The docker CLI, for what the SDK does not do (``docker stack``) or does in another shape."""

from __future__ import annotations

import subprocess
from typing import Protocol

from harness.errors import StackError


class DockerCli(Protocol):
    def __call__(self, *args: str, timeout: float = 120) -> str:
        """Run ``docker <args>``; its stdout, or StackError naming the command and its last error line."""
        ...


def docker_cli(*args: str, timeout: float = 120) -> str:
    try:
        result = subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # As harness.compose: a terminal's Ctrl-C reaches the harness alone, a deploy or removal must
            # not die half way.
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"`docker {' '.join(args[:3])}` took longer than {timeout:g}s") from exc
    except OSError as exc:
        raise StackError(f"`docker` cannot be run: {exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()
        raise StackError(f"`docker {' '.join(args[:3])}` failed: {detail[-1] if detail else 'no output'}")
    return result.stdout or ""
