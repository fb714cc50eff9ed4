"""The relay example stack, statically, through the real entry point: its compose files lint clean with its
catalogue, the catalogue is accepted, it shares nothing with the reference stack that would tie the harness
to it, its slas.yaml is `harness init`'s output with commented hand edits, and its mutant names a check of
the catalogue that judges the mutant's scenario."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RELAY = ROOT / "examples" / "relay"
REFERENCE = ROOT / "stack" / "compose.yml"
GOLDEN = ROOT / "tests" / "init" / "golden" / "relay.yaml"  # init's own output for compose.yml (tests/init)
MUTANTS = sorted((RELAY / "mutants").glob("*.yml"))


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def compose(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def published_ports(services: dict) -> set[str]:
    return {str(port).rsplit(":", 1)[0] for spec in services.values() for port in spec.get("ports", [])}


@pytest.mark.parametrize(
    "files", [["compose.yml"], ["compose.yml", "build.yml"]], ids=["compose.yml", "with-build.yml"]
)
def test_it_lints_clean_with_its_catalogue(files: list[str]) -> None:
    """Alone (images from elsewhere) and with the override that builds them: the same clean result."""
    stack = [f"examples/relay/{name}" for name in files]
    result = harness("lint", "--stack", *stack, "--slas", "examples/relay/slas.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 errors" in result.stdout


def test_its_compose_file_builds_nothing_and_build_yml_builds_every_service() -> None:
    """compose.yml, slas.yaml, .env and the bind-mounted folders are a stack of their own: its images come
    from elsewhere (here: build.yml, an override holding nothing else); no path leaves the folder."""
    services = compose(RELAY / "compose.yml")["services"]
    assert all("build" not in spec and spec.get("image") for spec in services.values())
    mounts = {v.split(":", 1)[0] for spec in services.values() for v in spec.get("volumes", [])}
    assert all(m.startswith("./") or m == "/var/run/docker.sock" for m in mounts), mounts
    assert {Path(m).parts[0] for m in mounts if m.startswith("./")} == {"prometheus", "router", "toxiproxy"}
    builds = compose(RELAY / "build.yml")["services"]
    assert set(builds) == set(services)
    assert all(set(spec) == {"build"} for spec in builds.values())


def test_its_catalogue_is_accepted() -> None:
    result = harness("slas", "--slas", "examples/relay/slas.yaml")
    assert result.returncode == 0, result.stderr


def test_it_shares_no_name_port_label_or_project_with_the_reference_stack() -> None:
    ours, theirs = compose(RELAY / "compose.yml")["services"], compose(REFERENCE)["services"]
    assert not set(ours) & set(theirs)
    assert not published_ports(ours) & published_ports(theirs)
    labels = {key for spec in ours.values() for key in spec.get("labels", {})}
    assert labels == {"relay.tier", "relay.phase", "relay.pool"}
    assert (RELAY / ".env").read_text() == "COMPOSE_PROJECT_NAME=relay\n"
    assert compose(RELAY / "slas.yaml")["labels"] == {
        "tier": "relay.tier",
        "pool": "relay.pool",
        "phase": "relay.phase",
    }


def test_its_workers_share_no_code_with_the_reference_agents() -> None:
    code = "\n".join(p.read_text() for p in (RELAY / "services").rglob("*.py"))
    assert not re.search(r"^\s*(from|import)\s+(agent|refstack_common)\b", code, re.MULTILINE)
    assert "from circuitbreaker import" in code


def test_its_catalogue_is_inits_output_with_each_hand_edit_said() -> None:
    """Every line init wrote is kept, or replaced where a comment says `hand edit` and why."""
    ours = (RELAY / "slas.yaml").read_text()
    dropped = [line for line in GOLDEN.read_text().splitlines() if line not in ours.splitlines()]
    assert len(dropped) == 3, dropped  # the two pools renamed to relay.pool's values, the gateway guess
    assert ours.count("hand edit") + ours.count("Hand edit") >= 5


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.stem for m in MUTANTS])
def test_a_mutant_lints_as_it_declares_and_names_a_check_of_its_scenario(mutant: Path) -> None:
    detection = compose(mutant)["x-detection"]
    result = harness(
        "lint", "--stack", "examples/relay/compose.yml", str(mutant), "--slas", "examples/relay/slas.yaml"
    )
    assert result.returncode == (1 if detection["lint"] else 0), result.stdout
    catalogue = compose(RELAY / "slas.yaml")
    assert detection["scenario"] in catalogue["scenarios"]
    objectives = {o["id"]: o for o in catalogue["objectives"]}
    for check in detection["checks"]:
        assert (
            objectives[check]["scenarios"] == "all" or detection["scenario"] in objectives[check]["scenarios"]
        )
