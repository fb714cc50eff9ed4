"""The package as pyproject.toml declares it: every package listed, the top-level scenarios/ and load/ mapped
into it, and the pytest plugin inert in a run that does not ask for it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

from harness.packaged import LOCUSTFILES_PACKAGE, SUITES_PACKAGE
from harness.pytest_entry_point import ENTRY_POINT

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PROJECT["tool"]["setuptools"]


def test_every_package_of_the_tree_is_listed_and_the_mapped_folders_too() -> None:
    # The list is written out because setuptools' find cannot map folders; a new package must join it.
    found = find_namespace_packages(str(ROOT), include=["harness*", "faultproxy*"], exclude=["*.__pycache__"])
    assert sorted(SETUPTOOLS["packages"]) == sorted([*found, SUITES_PACKAGE, LOCUSTFILES_PACKAGE])


def test_scenarios_and_load_stay_at_the_top_and_ship_as_packages() -> None:
    assert SETUPTOOLS["package-dir"] == {SUITES_PACKAGE: "scenarios", LOCUSTFILES_PACKAGE: "load"}
    for folder in ("scenarios", "load"):
        assert (ROOT / folder / "__init__.py").is_file()  # the editable install's finder needs one


def test_the_entry_points() -> None:
    scripts = PROJECT["project"]["scripts"]
    assert scripts == {"harness": "harness.cli:main", "faultproxy": "faultproxy.cli:main"}
    assert PROJECT["project"]["entry-points"]["pytest11"] == {ENTRY_POINT: "harness.pytest_entry_point"}


def _entry_point_installed(folder: Path) -> bool:
    # Asked from the folder pytest will run in: here the repository's root (on this process's path) may hold
    # the metadata of an older install, which hides the venv's.
    probe = f"from importlib.metadata import entry_points; print(bool(entry_points(group='pytest11', name={ENTRY_POINT!r})))"
    answer = subprocess.run(
        [sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, check=True
    )
    return answer.stdout.strip() == "True"


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # pytest's autoload registers the entry point when this venv's install has it; an install older than
    # the entry point (the repository's venv before `make venv`) gets the module with -p instead.
    module = () if _entry_point_installed(folder) else ("-p", "harness.pytest_entry_point")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *module, "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_plugin_is_inert_unless_asked_for_with_p_harness(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\n\ndef test_nothing_of_the_harness_was_loaded():\n"
        "    assert 'harness.pytest_plugin' not in sys.modules\n"
    )
    plain = _pytest(tmp_path, "-q")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "1 passed" in plain.stdout
    assert "--slas" not in _pytest(tmp_path, "--help").stdout
    asked = _pytest(tmp_path, "-p", ENTRY_POINT, "--help")
    assert asked.returncode == 0, asked.stderr
    assert "--slas" in asked.stdout and "chaos and SLA harness" in asked.stdout
