"""A Compose project as the harness sees it: files, a name, and the services' metadata.

Everything the harness knows of a stack comes from here: the merged model that the Compose CLI itself
prints (`config`), so overrides, anchors and interpolation resolve exactly as Compose resolves them, and
the tier, phase and memory-pool labels (harness.labels: ``sutazai.*`` unless slas.yaml names others) plus
``depends_on``.
Either Compose CLI works: ``docker compose`` (v2) or ``docker-compose --compatibility`` (v1).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import InputError, StackError
from harness.images import ImageBuild
from harness.labels import StackLabels


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    phase: int
    tier: str | None
    pool: str | None
    depends_on: frozenset[str]
    has_healthcheck: bool
    build: ImageBuild | None
    image: str | None = None
    """The image the service runs (``image:``), built here or not."""


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    files: tuple[Path, ...]
    services: tuple[Service, ...]

    def phases(self) -> list[tuple[int, list[Service]]]:
        """Services grouped by deployment phase, in phase order."""
        numbers = sorted({service.phase for service in self.services})
        return [(n, [s for s in self.services if s.phase == n]) for n in numbers]

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def dependents_of(self, name: str) -> set[str]:
        """Every service that depends on ``name``, directly or through others."""
        found: set[str] = set()
        frontier = {name}
        while frontier:
            frontier = {s.name for s in self.services if s.depends_on & frontier} - found
            found |= frontier
        return found

    def image_builds(self) -> list[ImageBuild]:
        unique = {s.build.image: s.build for s in self.services if s.build is not None}
        return list(unique.values())

    def images_not_built(self) -> dict[str, tuple[str, ...]]:
        """The images no service says how to build (built elsewhere, or pulled), each with the services
        that run it."""
        built = {b.image for b in self.image_builds()}
        found: dict[str, tuple[str, ...]] = {}
        for s in self.services:
            if s.image and s.image not in built:
                found[s.image] = (*found.get(s.image, ()), s.name)
        return found


def default_project_name(first_file: Path) -> str:
    """Compose's own rule: COMPOSE_PROJECT_NAME (environment, then .env beside the file), else the folder."""
    name = os.environ.get("COMPOSE_PROJECT_NAME")
    dotenv = first_file.parent / ".env"
    if not name and dotenv.exists():
        match = re.search(r"^COMPOSE_PROJECT_NAME=(.+)$", dotenv.read_text(), re.MULTILINE)
        name = match.group(1).strip() if match else None
    name = name or first_file.resolve().parent.name
    return re.sub(r"[^a-z0-9_-]", "", name.lower())


def compose_environment() -> dict[str, str]:
    """The environment Compose runs in, plus DOCKER_GID: the group owning the Docker socket, so that a
    service reading the Docker API (a metrics exporter) can run as non-root with ``group_add``."""
    env = dict(os.environ)
    if "DOCKER_GID" not in env:
        with contextlib.suppress(OSError):
            env["DOCKER_GID"] = str(os.stat("/var/run/docker.sock").st_gid)
    return env


class Compose:
    """Runs the Compose CLI on a fixed set of files under a fixed project name."""

    def __init__(self, command: Sequence[str], files: Sequence[Path], project_name: str) -> None:
        self.command = tuple(command)
        self.files = tuple(files)
        self.project_name = project_name

    def argv(self, *args: str) -> list[str]:
        argv = [*self.command, "-p", self.project_name]
        for path in self.files:
            argv += ["-f", str(path)]
        return [*argv, *args]

    def run(self, *args: str, timeout: float = 600, capture: bool = True) -> str:
        try:
            result = subprocess.run(
                self.argv(*args),
                env=compose_environment(),
                capture_output=capture,
                text=True,
                timeout=timeout,
                check=False,
                # A terminal's Ctrl-C reaches the harness alone, which decides: a `down` must not die half way.
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"`compose {' '.join(args)}` took longer than {timeout:g}s") from exc
        if result.returncode != 0:
            detail = (result.stderr or "").strip().splitlines()
            raise StackError(f"`compose {' '.join(args)}` failed: {detail[-1] if detail else 'no output'}")
        return result.stdout or ""

    def load_project(self, labels: StackLabels) -> Project:
        try:
            model = yaml.safe_load(self.run("config"))
        except StackError as exc:
            # Compose's own validation message names the file and the key; pass it on as input error.
            raise InputError(
                str(self.files[0]), None, str(exc).removeprefix("`compose config` failed: ")
            ) from exc
        return Project(self.project_name, self.files, tuple(_services(model or {}, self.files[0], labels)))


def _services(model: dict, first_file: Path, names: StackLabels) -> list[Service]:
    services = []
    for name, spec in (model.get("services") or {}).items():
        labels = spec.get("labels") or {}
        if isinstance(labels, list):  # v1 may keep the list form: ["key=value", ...]
            labels = dict(item.split("=", 1) for item in labels)
        phase_text = str(labels.get(names.phase, "1"))
        if not phase_text.isdigit():
            raise InputError(str(first_file), None, f"service {name}: label {names.phase} must be a number")
        depends = spec.get("depends_on") or {}
        healthcheck = spec.get("healthcheck") or {}
        services.append(
            Service(
                name=name,
                phase=int(phase_text),
                tier=labels.get(names.tier),
                pool=labels.get(names.pool),
                depends_on=frozenset(depends),
                has_healthcheck=bool(healthcheck) and not healthcheck.get("disable", False),
                build=_build(spec),
                image=spec.get("image"),
            )
        )
    return services


def _build(spec: dict) -> ImageBuild | None:
    build, image = spec.get("build"), spec.get("image")
    if not build or not image:
        return None
    if isinstance(build, str):
        build = {"context": build}
    context = Path(build["context"])
    return ImageBuild(
        image=image, context=context, dockerfile=context / build.get("dockerfile", "Dockerfile")
    )
