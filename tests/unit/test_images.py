from __future__ import annotations

from pathlib import Path

from harness.images import ImageBuild, base_images, context_files, inputs_hash


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
