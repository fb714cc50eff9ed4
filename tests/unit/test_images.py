from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import images
from harness.errors import StackError
from harness.images import ImageBuild, base_images, context_files, inputs_hash, require_images


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_dockerignore_whitelist_keeps_only_the_exceptions(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".dockerignore": "*\n!app\n!lib/keep\n**/__pycache__\n",
            "app/main.py": "x",
            "app/__pycache__/main.pyc": "x",
            "lib/keep/a.py": "x",
            "lib/drop/b.py": "x",
            "README.md": "x",
        },
    )
    names = [p.relative_to(tmp_path).as_posix() for p in context_files(tmp_path)]
    assert names == ["app/main.py", "lib/keep/a.py"]


def test_hash_changes_with_included_files_only(tmp_path: Path) -> None:
    _tree(tmp_path, {".dockerignore": "notes.txt\n", "Dockerfile": "FROM x\n", "a.py": "1", "notes.txt": "n"})
    build = ImageBuild("img:local", tmp_path, tmp_path / "Dockerfile")
    first = inputs_hash(build)
    (tmp_path / "notes.txt").write_text("changed")
    assert inputs_hash(build) == first
    (tmp_path / "a.py").write_text("2")
    assert inputs_hash(build) != first


def test_base_images_reads_every_from_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM debian:bookworm-slim AS build\nRUN x\nfrom --platform=linux/amd64 alpine:3\nFROM scratch\n"
    )
    assert base_images(dockerfile) == ["debian:bookworm-slim", "alpine:3"]


class FakeDocker:
    """`docker image inspect` and `docker pull` as an engine holding ``present`` would answer them."""

    def __init__(
        self, present: set[str], pullable: frozenset[str] = frozenset(), pull_error: str = ""
    ) -> None:
        self.present, self.pullable, self.pull_error = set(present), pullable, pull_error
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        image = argv[-1]
        if argv[:3] == ["docker", "image", "inspect"]:
            return subprocess.CompletedProcess(argv, 0 if image in self.present else 1, "", "")
        assert argv[:2] == ["docker", "pull"], argv
        if image in self.pullable:
            self.present.add(image)
            return subprocess.CompletedProcess(argv, 0, "", "")
        return subprocess.CompletedProcess(argv, 1, "", f"Using default tag\n{self.pull_error}\n")


def test_images_on_the_engine_are_neither_pulled_nor_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    docker = FakeDocker(present={"relay/redis:local"})
    monkeypatch.setattr(images.subprocess, "run", docker)
    require_images({"relay/redis:local": ("kv", "store")})
    assert [argv[:2] for argv in docker.calls] == [["docker", "image"]]


def test_a_missing_image_is_pulled(monkeypatch: pytest.MonkeyPatch) -> None:
    docker = FakeDocker(present=set(), pullable=frozenset({"redis:7"}))
    monkeypatch.setattr(images.subprocess, "run", docker)
    require_images({"redis:7": ("cache",)})
    assert ["docker", "pull", "redis:7"] in docker.calls


def test_a_missing_image_that_cannot_be_pulled_is_one_line_naming_it_and_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = "Error response from daemon: pull access denied for relay/redis, repository does not exist"
    docker = FakeDocker(present={"relay/python:local"}, pull_error=error)
    monkeypatch.setattr(images.subprocess, "run", docker)
    with pytest.raises(StackError) as raised:
        require_images({"relay/python:local": ("toxiproxy",), "relay/redis:local": ("kv", "store")})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("image relay/redis:local (services kv, store) is not on the engine")
    assert error in message and "harness build --stack" in message and "build:" in message
    assert StackError.exit_code == 2


def test_a_pull_that_hangs_is_refused_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if argv[:2] == ["docker", "pull"]:
            assert kwargs["timeout"] == images.PULL_TIMEOUT_S
            raise subprocess.TimeoutExpired(argv, float(images.PULL_TIMEOUT_S))
        return subprocess.CompletedProcess(argv, 1, "", "")

    monkeypatch.setattr(images.subprocess, "run", run)
    with pytest.raises(StackError, match=r"image relay/worker:local \(service worker-a\).*longer than 300s"):
        require_images({"relay/worker:local": ("worker-a",)})
