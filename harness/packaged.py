"""The folders that ship inside the package, found through it: the harness runs from any folder.

pyproject.toml maps the repository's top-level ``scenarios/`` and ``load/`` to ``harness.suites`` and
``harness.locustfiles``, so an installed wheel, an editable install and the repository all answer here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SUITES_PACKAGE = "harness.suites"
LOCUSTFILES_PACKAGE = "harness.locustfiles"
GENERIC_LOCUSTFILE = "generic_locustfile.py"


def _folder(package: str) -> Path:
    # A folder on disk (pip installs no zipped packages): pytest and Locust are given its path.
    return Path(str(files(package)))


def suites_folder() -> Path:
    """The packaged scenario suites (pytest modules)."""
    return _folder(SUITES_PACKAGE)


def locustfiles_folder() -> Path:
    """The packaged locustfiles and what they share (harnessuser.py), which a locustfile of a stack's own
    may import too once this folder is on its path."""
    return _folder(LOCUSTFILES_PACKAGE)


def generic_locustfile() -> Path:
    """The locustfile that drives the requests slas.yaml lists under ``load.requests``."""
    return locustfiles_folder() / GENERIC_LOCUSTFILE
