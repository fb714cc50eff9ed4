"""Rule 4.2 (shared library volume) on small documents: the rule's three paths from named volumes, read-only
where two services share one, and no Python packages installed at start, each with a passing and a failing
case and the file:line of the value at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _lint_support import errors, good_stack, lint_docs, service

from harness.errors import InputError
from harness.lint.mounts import Mount, parse_mount


def stack(**volumes: list[Any]) -> dict[str, Any]:
    """The good stack with these volume lists on its services, every named volume declared."""
    doc = good_stack()
    for name, mounts in volumes.items():
        doc["services"][name]["volumes"] = mounts
    doc["volumes"] = {"shared-python": {}, "shared-models": {}, "shared-config": {}, "data": {}}
    return doc


def test_the_shared_paths_from_named_volumes_read_only_pass(tmp_path: Path) -> None:
    doc = stack(
        core=[
            "shared-python:/opt/shared/python:ro",
            "shared-models:/opt/shared/models:ro",
            "data:/var/lib/core",
        ],
        worker=[
            {"type": "volume", "source": "shared-python", "target": "/opt/shared/python", "read_only": True},
            "shared-config:/opt/shared/config/worker:ro",
        ],
    )
    report = lint_docs(tmp_path, doc)
    assert errors(report, "4.2") == []


def test_a_bind_mount_or_an_anonymous_volume_at_a_shared_path_fails(tmp_path: Path) -> None:
    doc = stack(core=["./models:/opt/shared/models:ro"], worker=["/opt/shared/python"])
    found = {(f.service, f.line, f.message) for f in errors(lint_docs(tmp_path, doc), "4.2")}
    assert {(s, m.split(":")[0]) for s, _, m in found} == {
        ("core", "model files at /opt/shared/models from a bind mount of ./models"),
        ("worker", "Python packages at /opt/shared/python from an anonymous volume"),
    }
    lines = (tmp_path / "compose0.yml").read_text().splitlines()
    for _, line, _ in found:
        assert "/opt/shared/" in lines[line - 1]  # the finding points at the mount itself


def test_a_shared_volume_mounted_writable_fails_where_it_is_writable(tmp_path: Path) -> None:
    doc = stack(
        core=["shared-python:/opt/shared/python"],
        worker=["shared-python:/opt/shared/python:ro"],
        metrics=[{"type": "volume", "source": "shared-python", "target": "/opt/shared/python"}],
    )
    found = errors(lint_docs(tmp_path, doc), "4.2")
    assert sorted(f.service for f in found) == ["core", "metrics"]
    assert "writable (shared with metrics, worker): mount it read-only" in found[0].message


def test_one_service_alone_may_write_its_volume(tmp_path: Path) -> None:
    assert errors(lint_docs(tmp_path, stack(core=["shared-models:/opt/shared/models"])), "4.2") == []


@pytest.mark.parametrize(
    ("command", "caught"),
    [
        ('sh -c "pip install fastapi && python -m uvicorn app:app"', True),
        ("python3 -m pip install -r requirements.txt", True),
        ("pip3.11 install httpx", True),
        ("pip install --target /opt/shared/python -r requirements.txt", False),  # fills the shared volume
        ("python3 -m agent", False),
    ],
)
def test_packages_installed_at_start_fail(tmp_path: Path, command: str, caught: bool) -> None:
    doc = good_stack()
    doc["services"]["worker"] = {**service("standard"), "command": command}
    found = errors(lint_docs(tmp_path, doc), "4.2", "worker")
    assert bool(found) is caught
    if caught:
        line = (tmp_path / "compose0.yml").read_text().splitlines()[found[0].line - 1]
        assert line.lstrip().startswith("command:")


def test_mount_syntax() -> None:
    assert parse_mount("cache:/opt/shared/models:ro,z") == Mount(
        "/opt/shared/models", "volume", "cache", True
    )
    assert parse_mount("~/x:/opt/shared/config") == Mount("/opt/shared/config", "bind", "~/x", False)
    assert Mount("/opt/shared/python-extra", "volume", "v", True).under("/opt/shared/python") is False
    with pytest.raises(ValueError, match="not a volume mount"):
        parse_mount("a:b:c:d")


def test_a_malformed_mount_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"services\.core\.volumes: read_only"):
        lint_docs(
            tmp_path, stack(core=[{"type": "volume", "source": "data", "target": "/d", "read_only": "no"}])
        )
