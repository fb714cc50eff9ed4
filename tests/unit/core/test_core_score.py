"""The total score (Keptn quality gates): weights, pass and warning criteria, total_score, how errors and
skipped verdicts count, the exit code it may change, and where it is reported."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from core_synth import timeline

from harness.catalogue import parse_text
from harness.cli import main
from harness.metrics.fake import FakeMetricsSource
from harness.reports import command as judge_command
from harness.reports import write_reports
from harness.reports.summary import render_summary
from harness.scoring import score_run, scored_exit_code
from harness.verdict import Evidence, Verdict

HEAD = """\
version: 1
scenarios:
  baseline: {}
  kill: {fault: {kind: container_kill, target: redis}}
objectives:
"""
LATENCY = """\
  - id: latency
    rule: "8.1"
    scenarios: [baseline]
    window: steady
    promql: {query: q, comparator: "<", threshold: 1, rounding: 0.01}
    pass: "<= 0.5"
    warning: ["<= 0.8", ">= 0"]
    weight: 2
"""
UP = """\
  - id: up
    rule: "7.1"
    scenarios: all
    window: steady
    severity: warn
    promql: {query: up, comparator: ">=", threshold: 1}
"""


def catalogue(extra: str = "", objectives: str = LATENCY + UP):
    return parse_text(HEAD + objectives + extra, "slas.yaml")


def verdict(vid: str, status: str, measured: float | None = None, scenario: str = "baseline") -> Verdict:
    return Verdict(vid, "8.1", scenario, "steady", "gate", status, measured, "< 1", "why", Evidence())  # type: ignore[arg-type]


def test_slas_yaml_reads_weight_criteria_and_total_score():
    cat = catalogue("total_score: {pass: 90%, warning: 0.5}\n")
    grading = cat.objectives[0].grading
    assert grading.weight == 2
    assert [c.text() for c in grading.pass_criteria] == ["<= 0.5"]
    assert [c.text() for c in grading.warning_criteria] == ["<= 0.8", ">= 0"]
    assert grading.rounding == 0.01  # the promql objective's own precision
    assert cat.objectives[1].grading.weight == 1  # the default
    assert (cat.total_score.pass_, cat.total_score.warning, cat.total_score.gate) == (0.9, 0.5, True)
    assert not catalogue().total_score.gate  # absent: Keptn's 90%/75%, reported only
    assert catalogue("total_score: {pass: 80%}\n").total_score.warning == 0.8  # no warning band


@pytest.mark.parametrize(
    ("measured", "grade", "score"),
    [
        (0.4, "pass", 2.0),  # meets pass: full weight
        (0.6, "warning", 1.0),  # meets only warning: half
        (0.9, "fail", 0.0),  # passes its threshold, meets neither criterion
        (0.495, "warning", 1.0),  # within the 0.01 rounding of pass <= 0.5: not met, so never raised
    ],
)
def test_criteria_grade_a_passing_verdict(measured, grade, score):
    part = score_run([verdict("latency", "pass", measured)], catalogue()).parts[0]
    assert (part.grade, part.score) == (grade, score), part.reason


@pytest.mark.parametrize(
    ("status", "grade", "possible"),
    [("fail", "fail", 2.0), ("error", "fail", 2.0), ("skipped", "skipped", 0.0)],
)
def test_a_failed_verdict_is_never_rescued_an_error_scores_zero_and_skipped_is_left_out(
    status, grade, possible
):
    # measured 0.1 meets every criterion: a failed or unmeasured verdict still scores nothing.
    part = score_run([verdict("latency", status, 0.1)], catalogue()).parts[0]
    assert (part.grade, part.score, part.possible) == (grade, 0.0, possible)


def test_the_total_is_the_sum_over_the_weights_and_is_graded_against_total_score():
    cat = catalogue("total_score: {pass: 90%, warning: 75%}\n")
    # latency (weight 2) in warning: 1 of 2; up (weight 1) passes in both scenarios, skipped in none.
    verdicts = [
        verdict("latency", "pass", 0.6),
        verdict("up", "pass"),
        verdict("up", "pass", scenario="kill"),
    ]
    score = score_run(verdicts, cat)
    tally = score.tally()
    assert (tally.achieved, tally.possible, tally.total) == (3.0, 4.0, 0.75)
    assert score.result == "warning"
    assert score.tally("kill").total == 1.0 and score.tally("baseline").total == pytest.approx(2 / 3)
    nine_of_ten = catalogue("total_score: {pass: 0.9}\n", UP * 1)
    nine = [verdict("up", "pass", scenario=f"s{i}") for i in range(9)] + [verdict("up", "fail")]
    assert score_run(nine, nine_of_ten).result == "pass"  # 9/10 reaches 90%


def test_a_regression_lowers_the_score_with_its_objectives_weight_and_an_abort_counts_too():
    # Issue 11: a drift under the threshold gives a regression verdict and a lower score.
    cat = catalogue()
    steady = [verdict("latency", "pass", 0.4), verdict("latency:regression", "pass", 0.4)]
    assert score_run(steady, cat).tally().total == 1.0
    drifted = [verdict("latency", "pass", 0.45), verdict("latency:regression", "fail", 0.45)]
    tally = score_run(drifted, cat).tally()
    # latency's weight 2, twice (the regression without latency's criteria): half of it achieved
    assert (tally.achieved, tally.possible) == (2.0, 4.0)
    aborted = [verdict("abort.ollama-errors", "fail"), verdict("up", "skipped")]
    assert score_run(aborted, cat).tally().total == 0.0


@pytest.mark.parametrize(
    ("total_score", "statuses", "code", "scored"),
    [
        ("total_score: {pass: 90%}\n", ["pass", "fail"], 0, 1),  # every gate passed, the score failed
        ("", ["pass", "fail"], 0, 0),  # no total_score in slas.yaml: reported only
        ("total_score: {pass: 90%}\n", ["pass", "pass"], 0, 0),
        ("total_score: {pass: 90%}\n", ["pass", "fail"], 2, 2),  # an error stays an error
        ("total_score: {pass: 90%}\n", ["skipped", "skipped"], 0, 2),  # nothing to score
    ],
)
def test_the_score_changes_only_an_exit_0_and_only_when_total_score_is_given(
    total_score, statuses, code, scored
):
    cat = catalogue(total_score, UP)
    verdicts = [verdict("up", s, scenario=f"s{i}") for i, s in enumerate(statuses)]
    assert scored_exit_code(code, score_run(verdicts, cat)) == scored


def test_reports_carry_the_score_and_it_gates_the_exit_code(tmp_path: Path):
    cat = catalogue("total_score: {pass: 90%, warning: 75%}\n")
    # The gate verdict passes; the warn one failed: exit 0 by the verdicts, 1 by the score (2 of 3).
    verdicts = [verdict("latency", "pass", 0.4), warn_failure()]
    assert write_reports(tmp_path, verdicts, catalogue=cat) == 1
    document = json.loads((tmp_path / "verdicts.json").read_text())
    assert set(document) == {"verdicts", "exit_code", "score"} and document["exit_code"] == 1
    score = document["score"]
    assert (score["total"], score["result"], score["gate"]) == (pytest.approx(2 / 3), "fail", True)
    assert score["scenarios"] == {
        "baseline": {"total": pytest.approx(2 / 3), "achieved": 2.0, "possible": 3.0}
    }
    assert [(p["id"], p["grade"], p["score"]) for p in score["parts"]] == [
        ("latency", "pass", 2.0),
        ("up", "fail", 0.0),
    ]
    environment = (tmp_path / "allure-results" / "environment.properties").read_text().splitlines()
    assert environment[0] == "score=66.67% (2 of 3)"
    assert environment[1].startswith("score.result=fail (pass 90%, warning 75%, gates the exit code)")
    assert "score.scenario.baseline=66.67% (2 of 3)" in environment
    summary = render_summary(verdicts, catalogue=cat)
    assert "score 66.67% (2 of 3): fail (pass 90%" in summary
    assert summary.endswith("exit 1 (the total score failed)")
    # Without a catalogue there is no score, and an older run's environment is not left behind.
    assert write_reports(tmp_path, verdicts) == 0
    assert json.loads((tmp_path / "verdicts.json").read_text())["score"] is None
    assert not (tmp_path / "allure-results" / "environment.properties").exists()


def warn_failure() -> Verdict:
    return Verdict("up", "7.1", "baseline", "steady", "warn", "fail", 0.0, ">= 1", "down", Evidence())


@pytest.mark.parametrize(("total_score", "code"), [("", 0), ("total_score: {pass: 100%}\n", 1)])
def test_judge_passes_the_catalogue_so_its_score_gates_the_exit_code(
    total_score, code, tmp_path, monkeypatch, capsys
):
    t0 = timeline(fault=None).whole.start
    # The gate objective passes; the warn one (up >= 2) fails, which alone never changes the exit code.
    warn = UP.replace("id: up", "id: up2").replace("threshold: 1", "threshold: 2")
    (tmp_path / "slas.yaml").write_text(HEAD + UP.replace("warn", "gate") + warn + total_score)
    marks = {"steady_start": t0, "end": t0 + 30}
    record = {"version": 1, "graph": {}, "scenarios": [{"name": "baseline", "marks": marks, "steps": []}]}
    (tmp_path / "run.json").write_text(json.dumps(record))
    fake = FakeMetricsSource()
    fake.put("up", {}, [(t0 + 30, 1.0)])
    monkeypatch.setattr(judge_command, "PrometheusSource", lambda url, timeout: fake)
    reports = tmp_path / "reports"
    argv = ["judge", "--slas", str(tmp_path / "slas.yaml"), "--run", str(tmp_path / "run.json")]
    assert main([*argv, "--reports", str(reports)]) == code
    score = json.loads((reports / "verdicts.json").read_text())["score"]
    assert (score["total"], score["gate"]) == (0.5, bool(total_score))
    out = capsys.readouterr().out
    assert "score 50% (1 of 2)" in out
    assert out.rstrip().endswith(
        "exit 1 (the total score failed)" if code else "exit 0 (every gate SLA passed)"
    )


BAD = [
    (
        '    pass: "<= 0.5"\n',
        '    pass: "about 0.5"\n',
        11,
        "objectives[latency].pass: expected a comparator",
    ),
    ('    pass: "<= 0.5"\n', "    pass: []\n", 11, "objectives[latency].pass: expected a criterion"),
    ('    pass: "<= 0.5"\n', '    pass: "<= 1e999"\n', 11, "objectives[latency].pass: expected a comparator"),
    ('    pass: "<= 0.5"\n', "", 11, "objectives[latency].warning: warning criteria need pass criteria"),
    ("    weight: 2\n", "    weight: -1\n", 13, "objectives[latency].weight: must be at least 0"),
    ("    weight: 2\n", "    weight: heavy\n", 13, "objectives[latency].weight: expected a number"),
]


@pytest.mark.parametrize(("old", "new", "line", "message"), BAD)
def test_bad_scoring_keys_are_one_line_exit_2(old, new, line, message, tmp_path, capsys):
    slas = tmp_path / "slas.yaml"
    slas.write_text(HEAD + LATENCY.replace(old, new))
    assert main(["slas", "--slas", str(slas)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"harness slas: {slas}:{line}: {message}") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        (
            "total_score: {pass: 90}\n",
            14,
            "total_score.pass: expected a fraction from 0 to 1 or a percentage",
        ),
        ("total_score: {pass: 120%}\n", 14, "total_score.pass: expected a fraction"),
        ("total_score: {warning: 50%}\n", 14, "total_score.pass: missing required key"),
        ("total_score: {pass: 50%, warning: 60%}\n", 14, "total_score.warning: 0.6 is above pass 0.5"),
        ("total_score: {pass: 50%, fail: 10%}\n", 14, "total_score.fail: unknown key"),
        ("total_score: 90%\n", 14, "total_score: expected a mapping"),
    ],
)
def test_bad_total_score_is_one_line_exit_2(extra, line, message, tmp_path, capsys):
    slas = tmp_path / "slas.yaml"
    slas.write_text(HEAD + LATENCY + extra)
    assert main(["slas", "--slas", str(slas)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"harness slas: {slas}:{line}: {message}") and err.count("\n") == 1, err


def test_criteria_on_an_analyzer_objective_are_refused():
    text = textwrap.dedent("""\
      - id: rt
        rule: "8.1"
        scenarios: all
        window: steady
        analyzer: {name: response_time, params: {threshold: 1s}}
        pass: "<= 0.5"
    """)
    with pytest.raises(
        Exception,
        match=r"slas.yaml:11: objectives\[rt\].pass: criteria grade the measured number of a promql",
    ):
        parse_text(HEAD + text, "slas.yaml")
