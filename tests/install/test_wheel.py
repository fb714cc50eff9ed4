"""The wheel, installed in a fresh venv outside the repository, used from a folder holding only a compose
file and a slas.yaml: the console scripts through their real entry points, the pytest plugin inert until
``-p harness`` asks for it, the packaged scenario suites and locustfiles found through the package.

Nothing is downloaded: the wheel is built without build isolation (this venv's setuptools), installed with
--no-deps, and the new venv sees this venv's site-packages (the dependencies) through a .pth file, after
its own (the wheel), so nothing of the repository is on its path.

The two `docker` tests run `harness run` from such a folder: the reference stack (with its build contexts),
and the relay example from a copy of only its compose.yml, slas.yaml, .env and bind-mounted configuration,
its images built beforehand with its build.yml as a team's images come from a registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "harness", "faultproxy", "scenarios", "load")
REFERENCE_LOCUSTFILE = "load:\n  locustfile: load/locustfile.py   # relative to this file\n"
# The reference locustfile's requests, for the generic locustfile (load/locustfile.py's docstring).
GENERIC_LOAD = """\
load:
  requests:
    - {name: orchestrator task, method: POST, path: /api/orchestrator/task, body: {input: load}, weight: 4}
    - {name: summarizer task, method: POST, path: /api/summarizer/task, body: {input: load, model: tinyllama},
       weight: 2}
    - {name: indexer task, method: POST, path: /api/indexer/task, body: {input: load}, weight: 2}
    - {name: orchestrator async, method: POST, path: /api/orchestrator/task/async, body: {input: load}, weight: 2}
    - {name: orchestrator health, path: /api/orchestrator/health}
    - {name: summarizer health, path: /api/summarizer/health}
    - {name: indexer health, path: /api/indexer/health}
    - {name: search task, method: POST, path: /api/search/task, body: {input: load}, weight: 3}
"""
SILENT_SERVICES = "silent: [exporter]"


@dataclass(frozen=True)
class Installed:
    venv: Path

    def script(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # A clean environment: nothing may reach the repository through PYTHONPATH or the working folder.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )


def _copy_sources(target: Path) -> None:
    # A copy, so the build writes its build/ and egg-info there and not into the shared working tree.
    target.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    source, dist, venv = base / "source", base / "dist", base / "venv"
    _copy_sources(source)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = dist.glob("chaos_sla_harness-*.whl")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    yield Installed(venv)


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """Only a compose file and a slas.yaml, as a team with its own stack has them."""
    shutil.copy2(ROOT / "stack" / "compose.yml", tmp_path / "compose.yml")
    catalogue = (ROOT / "slas.yaml").read_text()
    assert REFERENCE_LOCUSTFILE in catalogue
    (tmp_path / "slas.yaml").write_text(catalogue.replace(REFERENCE_LOCUSTFILE, GENERIC_LOAD))
    return tmp_path


def test_the_console_scripts_run_from_a_folder_with_only_the_users_files(
    installed: Installed, user_folder: Path
) -> None:
    version = installed.run(installed.script("harness"), "--version", cwd=user_folder)
    assert version.returncode == 0 and version.stdout.startswith("harness "), version.stderr
    assert "not installed" not in version.stdout

    slas = installed.run(installed.script("harness"), "slas", "--slas", "slas.yaml", cwd=user_folder)
    assert slas.returncode == 0, slas.stderr
    assert slas.stdout.startswith("slas.yaml: ") and "objectives:" in slas.stdout

    lint = installed.run(
        installed.script("harness"), "lint", "--stack", "compose.yml", "--slas", "slas.yaml", cwd=user_folder
    )
    # Without the reference stack's build contexts the images' users are unknown (rule 9.3 errors): exit 1.
    assert lint.returncode in (0, 1), lint.stderr
    assert "14 services: " in lint.stdout and "Traceback" not in lint.stderr

    proxy = installed.run(installed.script("faultproxy"), "-h", cwd=user_folder)
    # Toxiproxy's own usage text (the proxy mirrors its command line), on stderr.
    assert proxy.returncode == 0 and "Usage of faultproxy:" in proxy.stderr, proxy.stderr


def test_the_package_is_the_installed_one_with_its_suites_and_locustfiles(
    installed: Installed, user_folder: Path
) -> None:
    probe = (
        "import harness, harness.packaged as p\n"
        "print(harness.__file__); print(p.suites_folder()); print(p.generic_locustfile())\n"
    )
    found = installed.run(str(installed.venv / "bin" / "python"), "-c", probe, cwd=user_folder)
    assert found.returncode == 0, found.stderr
    package, suites, locustfile = (Path(line) for line in found.stdout.splitlines())
    assert installed.venv in package.parents  # not the repository's
    assert (suites / "test_baseline.py").is_file() and installed.venv in suites.parents
    assert locustfile.is_file() and (locustfile.parent / "harnessuser.py").is_file()
    for helper in ("burst", "stress"):  # the fault helpers' images build from package data
        assert (package.parent / "images" / helper / "Dockerfile").is_file()


def test_pytest_leaves_the_plugin_inert_until_p_harness(installed: Installed, user_folder: Path) -> None:
    (user_folder / "test_plain.py").write_text(
        "import sys\n\n\ndef test_nothing_of_the_harness_was_loaded():\n"
        "    assert 'harness.pytest_plugin' not in sys.modules\n"
    )
    pytest_script = installed.script("pytest") if Path(installed.script("pytest")).exists() else None
    python = str(installed.venv / "bin" / "python")
    command = [pytest_script] if pytest_script else [python, "-m", "pytest"]
    plain = installed.run(*command, "-q", "-p", "no:cacheprovider", "test_plain.py", cwd=user_folder)
    assert plain.returncode == 0 and "1 passed" in plain.stdout, plain.stdout + plain.stderr
    assert "--slas" not in installed.run(*command, "--help", cwd=user_folder).stdout

    # Asked for through the entry point's name: the packaged suites collect one test per scenario of
    # slas.yaml's family (collection needs no engine).
    collected = installed.run(
        *command,
        *("-p", "harness", "-p", "no:cacheprovider", "--collect-only", "-q"),
        *("--pyargs", "harness.suites", "--stack", "compose.yml", "--slas", "slas.yaml"),
        cwd=user_folder,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "test_baseline.py::test_baseline[baseline]" in collected.stdout
    assert "test_container_faults.py::test_container_fault[redis-kill]" in collected.stdout


@pytest.mark.docker
def test_harness_run_from_the_users_folder_judges_the_baseline(installed: Installed, tmp_path: Path) -> None:
    # The reference stack needs its build contexts and secrets beside its compose file: the whole stack/
    # folder (made by `make images`) and the fault proxy its Python image copies, with the generic
    # locustfile driving the reference routes.
    skip = shutil.ignore_patterns("__pycache__", "mutants")
    shutil.copytree(ROOT / "stack", tmp_path / "stack", ignore=skip)
    shutil.copytree(ROOT / "faultproxy", tmp_path / "faultproxy", ignore=skip)
    shutil.copy(ROOT / ".dockerignore", tmp_path / ".dockerignore")
    catalogue = (ROOT / "slas.yaml").read_text().replace(REFERENCE_LOCUSTFILE, GENERIC_LOAD)
    # The generic load sends one input again and again: after the first, every task is a cache hit (rule 8.3)
    # and the model server has nothing to log, which structured-logs would rightly call nothing to judge.
    assert SILENT_SERVICES in catalogue
    catalogue = catalogue.replace(SILENT_SERVICES, "silent: [exporter, ollama]")
    (tmp_path / "slas.yaml").write_text(catalogue)
    run = installed.run(
        installed.script("harness"),
        *("run", "--stack", "stack/compose.yml", "--slas", "slas.yaml", "--", "-k", "baseline"),
        cwd=tmp_path,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (tmp_path / "reports" / "verdicts.json").is_file()
    assert "orchestrator task" in (tmp_path / "reports" / "load").rglob("locust.log").__next__().read_text()


RELAY = ROOT / "examples" / "relay"
# What a team holds of the relay example: its compose file (images named, none built), its catalogue, the
# project name, and the configuration its compose file bind-mounts. Nothing else of the repository.
RELAY_COPY = ("compose.yml", "slas.yaml", ".env", "prometheus", "router", "toxiproxy")
RELAY_PROJECT = "com.docker.compose.project=relay"


def _relay_leftovers() -> list[str]:
    """The containers and networks of project relay still on the engine."""
    found = []
    for kind, listing in (("container", ["ps", "--all"]), ("network", ["network", "ls"])):
        listed = subprocess.run(
            ["docker", *listing, "--quiet", "--filter", f"label={RELAY_PROJECT}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found += [f"{kind} {line}" for line in listed.stdout.split()]
    return found


@pytest.mark.docker
def test_harness_run_from_a_copy_of_the_relay_examples_compose_and_slas_files_alone(
    installed: Installed, tmp_path: Path
) -> None:
    """Issue 12: from an empty folder holding only a copy of examples/relay's compose and slas files, the
    installed wheel's `harness run` exits 0 with its reports, and leaves nothing of the project behind."""
    # The images come from wherever a team builds them; here build.yml builds them from the repository,
    # with the installed harness, from a folder of its own (its build log stays there).
    builder = tmp_path / "builder"
    builder.mkdir()
    build = installed.run(
        installed.script("harness"),
        *("build", "--stack", str(RELAY / "compose.yml"), str(RELAY / "build.yml")),
        cwd=builder,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout + build.stderr[-3000:]

    folder = tmp_path / "relay"
    folder.mkdir()
    for name in RELAY_COPY:
        source = RELAY / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy2(source, folder / name)
    assert sorted(p.name for p in folder.iterdir()) == sorted(RELAY_COPY)

    harness = installed.script("harness")
    down = installed.run(harness, "down", "--stack", "compose.yml", cwd=folder, timeout=300)
    assert down.returncode == 0, down.stderr  # a crashed earlier run's containers, if any
    try:
        run = installed.run(
            harness,
            *("run", "--stack", "compose.yml", "--slas", "slas.yaml", "--reports", "reports"),
            *("--", "-k", "baseline"),
            cwd=folder,
            timeout=900,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        verdicts = json.loads((folder / "reports" / "verdicts.json").read_text())
        assert verdicts["exit_code"] == 0
        assert verdicts["verdicts"], "no verdict"
        statuses = {(v["id"], v["scenario"]): v["status"] for v in verdicts["verdicts"]}
        assert set(statuses.values()) == {"pass"}, statuses
        assert {scenario for _, scenario in statuses} == {"baseline"}
        assert (folder / "reports" / "junit.xml").is_file()
        assert _relay_leftovers() == []  # the run took its stack down
    finally:
        installed.run(harness, "down", "--stack", "compose.yml", cwd=folder, timeout=300)
