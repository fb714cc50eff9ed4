"""What slas.yaml says of the stack beyond its endpoints: ``load:`` (a locustfile of its own, or the
generic locustfile's requests), ``labels:`` and ``suites:``, each mistake one error naming file, line and
field; and the lint reading the same label names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.catalogue import load_catalogue
from harness.catalogue.load_spec import require_load
from harness.errors import InputError
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.lint.config import load_config
from harness.packaged import generic_locustfile

HEAD = """\
version: 1
scenarios: {baseline: {}}
objectives:
  - {id: fast, rule: "8.1", scenarios: all, window: steady, analyzer: {name: response_time, params: {threshold: 1s}}}
"""


def catalogue(folder: Path, tail: str):
    path = folder / "slas.yaml"
    path.write_text(HEAD + tail)
    return load_catalogue(path)


def test_a_locustfile_is_found_relative_to_slas_yaml(tmp_path: Path) -> None:
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "mine.py").write_text("")
    load = catalogue(tmp_path, "load: {locustfile: load/mine.py}\n").load
    assert load.locustfile_to_run() == tmp_path / "load" / "mine.py"
    assert load.requests_json() == ""


def test_requests_drive_the_packaged_generic_locustfile(tmp_path: Path) -> None:
    load = catalogue(
        tmp_path,
        "load:\n  requests:\n"
        "    - {name: order, method: post, path: /api/orders, body: {item: 1}, weight: 3}\n"
        "    - {name: health, path: /health}\n",
    ).load
    assert load.locustfile_to_run() == generic_locustfile() and generic_locustfile().is_file()
    assert json.loads(load.requests_json()) == [
        {"name": "order", "method": "POST", "path": "/api/orders", "body": {"item": 1}, "weight": 3},
        {"name": "health", "method": "GET", "path": "/health", "body": None, "weight": 1},
    ]


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("load: {locustfile: nope.py}\n", r"slas.yaml:5: load.locustfile: no such file: .*nope.py"),
        ("load: {}\n", r"slas.yaml:5: load: name a locustfile, or list the requests"),
        (
            "load:\n  locustfile: x.py\n  requests: [{name: a, path: /}]\n",
            r"slas.yaml:7: load.requests: the generic locustfile's requests: not with a locustfile",
        ),
        (
            "load:\n  requests:\n    - {name: a}\n",
            r"slas.yaml:7: load.requests\[0\].path: missing required key",
        ),
        (
            "load:\n  requests:\n    - {name: a, path: /, method: GET, body: {x: 1}}\n",
            r"slas.yaml:7: load.requests\[0\].body: a GET request sends no body",
        ),
        (
            "load:\n  requests:\n    - {name: a, path: /}\n    - {name: a, path: /b}\n",
            r"slas.yaml:6: load.requests: two requests named 'a'",
        ),
        (
            "load:\n  requests:\n    - {name: a, path: /, weight: 0}\n",
            r"load.requests\[0\].weight: must be at least 1",
        ),
        (
            "labels: {tier: acme.tier, zone: z}\n",
            r"slas.yaml:5: labels.zone: unknown key \(expected one of: phase, pool, tier\)",
        ),
        ("suites: [mine]\n", r"slas.yaml:5: suites: no such folder: .*mine"),
    ],
)
def test_a_mistake_is_one_error_naming_file_line_and_field(tmp_path: Path, tail: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        catalogue(tmp_path, tail)


def test_labels_default_to_the_sutazai_names_and_may_be_renamed(tmp_path: Path) -> None:
    assert catalogue(tmp_path, "").labels == DEFAULT_LABELS == StackLabels()
    assert DEFAULT_LABELS.tier == "sutazai.tier" and DEFAULT_LABELS.phase == "sutazai.phase"
    renamed = catalogue(tmp_path, "labels: {tier: acme.tier, pool: acme.pool}\n").labels
    assert renamed == StackLabels(tier="acme.tier", pool="acme.pool", phase="sutazai.phase")


def test_suites_are_folders_relative_to_slas_yaml(tmp_path: Path) -> None:
    (tmp_path / "ours").mkdir()
    assert catalogue(tmp_path, "suites: [ours]\n").suites == (tmp_path / "ours",)


def test_a_run_needs_a_load_the_catalogue_alone_does_not(tmp_path: Path) -> None:
    parsed = catalogue(tmp_path, "")
    with pytest.raises(InputError, match=r"slas.yaml: load: missing: name your load.locustfile"):
        require_load(parsed.path, parsed.load)


def test_the_lint_reads_the_same_labels_section(tmp_path: Path) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(HEAD + "labels: {tier: acme.tier}\n")
    assert load_config(path).labels == StackLabels(tier="acme.tier")
    path.write_text(HEAD + "labels: {tier: ''}\n")
    with pytest.raises(InputError, match=r"slas.yaml:5: labels.tier: expected a label name"):
        load_config(path)
