from __future__ import annotations

from pathlib import Path

import pytest

from harness.compose import Project, _services, default_project_name
from harness.errors import InputError
from harness.labels import StackLabels

MODEL = {
    "services": {
        "db": {
            "labels": {"sutazai.phase": "1", "sutazai.tier": "infrastructure"},
            "healthcheck": {"test": ["x"]},
        },
        "core": {"labels": {"sutazai.phase": "2"}, "depends_on": {"db": {"condition": "service_healthy"}}},
        "edge": {
            "labels": ["sutazai.phase=3"],
            "depends_on": ["core"],
            "build": {"context": "/ctx"},
            "image": "e:1",
        },
        "other": {"labels": {"sutazai.phase": "3"}, "healthcheck": {"disable": True}},
        "pulled": {"image": "redis:7"},
        "also-pulled": {"image": "redis:7"},
        "same-as-edge": {"image": "e:1"},
    }
}


def _project() -> Project:
    return Project("p", (Path("c.yml"),), tuple(_services(MODEL, Path("c.yml"), StackLabels())))


def test_phases_group_services_in_order() -> None:
    assert [(n, sorted(s.name for s in ss)) for n, ss in _project().phases()] == [
        (1, ["also-pulled", "db", "pulled", "same-as-edge"]),
        (2, ["core"]),
        (3, ["edge", "other"]),
    ]


def test_dependents_are_transitive() -> None:
    project = _project()
    assert project.dependents_of("db") == {"core", "edge"}
    assert project.dependents_of("other") == set()


def test_healthcheck_presence_and_builds() -> None:
    project = _project()
    assert project.service("db").has_healthcheck
    assert not project.service("other").has_healthcheck
    (build,) = project.image_builds()
    assert build.image == "e:1" and build.dockerfile == Path("/ctx/Dockerfile")


def test_images_not_built_are_those_no_service_builds_with_the_services_running_them() -> None:
    """What must come from elsewhere (a registry, a team's own build): e:1 is built by edge."""
    assert _project().images_not_built() == {"redis:7": ("pulled", "also-pulled")}


def test_non_numeric_phase_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"label sutazai\.phase must be a number"):
        _services({"services": {"x": {"labels": {"sutazai.phase": "first"}}}}, Path("c.yml"), StackLabels())


def test_labels_named_in_slas_yaml_are_read_instead() -> None:
    model = {
        "services": {"x": {"labels": {"acme.phase": "2", "acme.tier": "critical", "sutazai.phase": "5"}}}
    }
    (service,) = _services(model, Path("c.yml"), StackLabels(tier="acme.tier", phase="acme.phase"))
    assert (service.phase, service.tier, service.pool) == (2, "critical", None)


def test_project_name_follows_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    folder = tmp_path / "My Stack"
    folder.mkdir()
    assert default_project_name(folder / "compose.yml") == "mystack"
    (folder / ".env").write_text("COMPOSE_PROJECT_NAME=ref\n")
    assert default_project_name(folder / "compose.yml") == "ref"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "fromenv")
    assert default_project_name(folder / "compose.yml") == "fromenv"
