"""slas.yaml's history keys: ``defaults.history`` (where runs are recorded) and an objective's
``regression:`` (judged against its own earlier values). The meaning lives in harness.history."""

from __future__ import annotations

from dataclasses import replace

from harness.catalogue.model import Catalogue
from harness.catalogue.reader import Fields, read_dataclass, show
from harness.errors import InputError
from harness.history.location import history_path
from harness.history.spec import RegressionSpec


def read_history(node: Fields, default: str) -> str:
    """``defaults.history``: a file path or a ``sqlite:///`` URL, as the path it names."""
    text = node.string("history", default)
    path = history_path(text)
    if path is None:
        raise node.error("history", f"expected a file path or a sqlite:/// URL, got {show(text)}")
    return path


def read_regression(node: Fields) -> RegressionSpec | None:
    """An objective's optional ``regression: {metric, compare_with, method, worse}``."""
    section = node.mapping("regression")
    return read_dataclass(RegressionSpec, section) if section else None


def with_history(catalogue: Catalogue, path: str | None) -> Catalogue:
    """The catalogue with its history file replaced (`run --history PATH`), checked as slas.yaml's would be."""
    if path is None:
        return catalogue
    location = history_path(path)
    if location is None:
        raise InputError("--history", None, f"expected a file path or a sqlite:/// URL, got {path!r}")
    return replace(catalogue, defaults=replace(catalogue.defaults, history=location))
