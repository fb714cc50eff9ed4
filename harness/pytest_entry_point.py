"""The pytest plugin as installed (entry point ``pytest11``, name ``harness``): inert unless asked for.

pytest loads every installed plugin in every run, so this module adds no option, no fixture and no
marker, and imports nothing heavy. Only a run that names it, ``pytest -p harness ...``, gets the real
plugin (harness.pytest_plugin: the ``chaos`` fixture, the options ``--slas``, ``--stack``, ...),
registered before pytest reads the rest of the command line, as a conftest would be::

    pytest -p harness --pyargs harness.suites --stack compose.yml --slas slas.yaml -k redis
"""

from __future__ import annotations

import pytest

ENTRY_POINT = "harness"
PLUGIN = "harness.pytest_plugin"


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # `-p harness` names this entry point: it is how a run asks for the harness.
    if ENTRY_POINT in (early_config.known_args_namespace.plugins or []):
        early_config.pluginmanager.import_plugin(PLUGIN)
