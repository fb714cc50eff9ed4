"""slas.yaml's defaults.history and regression: read, and every mistake one line naming file, line, field."""

from __future__ import annotations

import pytest

from harness.catalogue.parse import parse_text
from harness.errors import InputError
from harness.history.location import DEFAULT_HISTORY
from harness.history.spec import RegressionSpec

HEAD = """\
version: 1
defaults:
  history: {history}
scenarios:
  baseline: {{windows: {{steady: 20s}}}}
objectives:
  - id: up
    rule: "7.1"
    scenarios: all
    window: steady
    promql: {{query: "min(up)", comparator: "==", threshold: 1}}
    regression: {regression}
"""


def catalogue(history: str = "h.sqlite", regression: str = "{metric: measured}"):  # type: ignore[no-untyped-def]
    return parse_text(HEAD.format(history=history, regression=regression), "slas.yaml")


def test_the_keys_are_read_with_their_defaults() -> None:
    c = catalogue()
    assert c.defaults.history == "h.sqlite"
    assert c.objectives[0].regression == RegressionSpec("measured", 10, "e_divisive", "higher")
    full = catalogue("sqlite:////var/lib/h.sqlite", "{metric: p99, compare_with: 20, worse: lower}")
    assert full.defaults.history == "/var/lib/h.sqlite"
    assert full.objectives[0].regression == RegressionSpec("p99", 20, "e_divisive", "lower")
    assert catalogue("sqlite:///reports/h.sqlite").defaults.history == "reports/h.sqlite"
    plain = parse_text(
        HEAD.replace("defaults:\n  history: {history}\n", "").format(regression="null"), "s.yaml"
    )
    assert plain.defaults.history == DEFAULT_HISTORY and plain.objectives[0].regression is None


@pytest.mark.parametrize(
    ("history", "regression", "line", "message"),
    [
        (
            "postgresql://db/h",
            "{metric: p99}",
            3,
            "defaults.history: expected a file path or a sqlite:/// URL",
        ),
        ("sqlite:///", "{metric: p99}", 3, "defaults.history: expected a file path or a sqlite:/// URL"),
        ("h.sqlite", "{compare_with: 10}", 12, "objectives[up].regression.metric: missing required key"),
        (
            "h.sqlite",
            "{metric: p99, compare_with: 3}",
            12,
            "objectives[up].regression.compare_with: must be at least 8 for e_divisive, got 3",
        ),
        (
            "h.sqlite",
            "{metric: p99, method: cusum}",
            12,
            "objectives[up].regression.method: expected one of e_divisive",
        ),
        (
            "h.sqlite",
            "{metric: p99, worse: up}",
            12,
            "objectives[up].regression.worse: expected one of higher, lower",
        ),
        ("h.sqlite", "{metric: p99, pvalue: 0.1}", 12, "objectives[up].regression.pvalue: unknown key"),
    ],
)
def test_a_mistake_names_file_line_and_field(history: str, regression: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        catalogue(history, regression)
    assert str(caught.value).startswith(f"slas.yaml:{line}: {message}"), caught.value
