"""Report shapes: verdicts.json exactly, JUnit counts, Allure results written by allure-commons' logger
with one identity per scenario, objective and window, and the timeline plot."""

from __future__ import annotations

import dataclasses
import json
import math
import xml.etree.ElementTree as ET
from itertools import pairwise

import attr
import pytest
from allure_commons import model2
from core_synth import BreakerAgent, context, put_breaker, timeline

from harness.analyzers.circuit_breaker import CircuitBreakerParams
from harness.analyzers.circuit_breaker import run as breaker
from harness.metrics.fake import FakeMetricsSource
from harness.metrics.port import Sample, Series
from harness.reports import ReportStep, write_reports
from harness.reports.allure import write_allure
from harness.reports.svg import timeline_svg
from harness.verdict import Check, Evidence, Finding, Verdict

TL = timeline()


def stamp(finding: Finding, vid: str, severity: str = "gate") -> Verdict:
    return Verdict(
        vid,
        "3.4",
        "redis-kill",
        "whole",
        severity,
        finding.status,
        finding.measured,  # type: ignore[arg-type]
        finding.threshold,
        finding.reason,
        finding.evidence,
        "a description",
    )


def verdicts() -> list[Verdict]:
    params = CircuitBreakerParams(dependency="redis")
    good, bad = FakeMetricsSource(), FakeMetricsSource()
    put_breaker(good, params, BreakerAgent().simulate(TL, (TL.fault.start, TL.fault.end)))
    put_breaker(bad, params, BreakerAgent(threshold=10).simulate(TL, (TL.fault.start, TL.fault.end)))
    nan = Evidence(
        window=TL.fault,
        phases=TL.phases,
        samples=(Series((("job", "x"),), (Sample(TL.fault.end, math.nan),)),),
        checks=(Check("x", "error", "the query gave nan"),),
    )
    return [
        stamp(breaker(context(good, "whole", TL), params), "breaker-ok"),
        stamp(breaker(context(bad, "whole", TL), params), "breaker-bad"),
        stamp(Finding("error", None, "< 1", "the query gave nan", nan), "nan"),
        stamp(Finding("skipped", None, "< 1", "no fault", Evidence(phases=TL.phases)), "skip", "warn"),
        stamp(Finding("pass", 0.5, "< 1 s", "fine", Evidence(queries=("q",), window=TL.steady)), "scalar"),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reports")
    steps = {
        "redis-kill": [
            ReportStep("stack up", TL.whole.start - 20, TL.whole.start),
            ReportStep(
                "fault: container_kill redis (proven: container exited)",
                TL.fault.start,
                TL.fault.end,
                detail="docker kill refstack_redis_1",
            ),
        ]
    }
    code = write_reports(directory, verdicts(), steps)
    return directory, code


def _strict(text: str):
    def reject(constant):
        raise ValueError(constant)

    return json.loads(text, parse_constant=reject)


def test_verdicts_json_has_exactly_the_promised_shape(written):
    directory, code = written
    document = _strict((directory / "verdicts.json").read_text())
    assert set(document) == {"verdicts", "exit_code", "score"}
    assert document["exit_code"] == code == 1
    assert document["score"] is None  # no catalogue given: nothing to weigh the verdicts by
    assert [v["status"] for v in document["verdicts"]] == ["pass", "fail", "error", "skipped", "pass"]
    for item in document["verdicts"]:
        assert set(item) == {
            "id",
            "rule",
            "scenario",
            "window",
            "status",
            "measured",
            "threshold",
            "evidence",
        }
        assert {"query", "window", "measured", "samples", "reason", "severity"} <= set(item["evidence"])
    ok = document["verdicts"][0]
    assert ok["measured"]["failures_at_open[agent-summarizer/summarizer:10200]"] == 5
    assert ok["evidence"]["samples"][0]["values"][0][0] == TL.whole.start
    assert document["verdicts"][2]["evidence"]["samples"][0]["values"][0][1] == "NaN"
    assert document["verdicts"][4]["measured"] == 0.5
    assert document["verdicts"][4]["evidence"]["window"]["name"] == "steady"


def test_junit_counts_and_outcomes(written):
    directory, _ = written
    root = ET.parse(directory / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "breaker-ok [whole]",
        "breaker-bad [whole]",
        "nan [whole]",
        "skip [whole]",
        "scalar [whole]",
    ]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "expected exactly 5" in failure.get("message")
    assert failure.get("type") == "gate"
    assert cases[2].find("error") is not None
    assert cases[3].find("skipped").get("type") == "warn"
    assert json.loads(cases[0].find("system-out").text)["reason"]


def _fields(cls) -> set[str]:
    return {f.name for f in attr.fields(cls)}


def test_allure_results_use_allure_commons_field_names(written):
    directory, _ = written
    results = sorted((directory / "allure-results").glob("*-result.json"))
    assert len(results) == 5
    by_name = {}
    for path in results:
        result = _strict(path.read_text())
        assert result["uuid"] and result["testCaseId"] == result["historyId"]
        assert set(result) <= _fields(model2.TestResult)
        for label in result["labels"]:
            assert set(label) <= _fields(model2.Label)
        for parameter in result["parameters"]:
            assert set(parameter) <= _fields(model2.Parameter)
            assert parameter["excluded"] is True  # the identity is the testCaseId alone
        for step in result["steps"]:
            assert set(step) <= _fields(model2.TestStepResult)
        for attachment in result["attachments"]:
            assert set(attachment) <= _fields(model2.Attachment)
            assert (directory / "allure-results" / attachment["source"]).is_file()
        assert result["stage"] == "finished"
        by_name[result["name"]] = result
    categories = json.loads((directory / "allure-results" / "categories.json").read_text())
    assert [c["matchedStatuses"] for c in categories] == [["failed"], ["broken"]]
    bad = by_name["breaker-bad [redis-kill/whole]"]
    assert bad["status"] == "failed"
    assert "expected exactly 5" in bad["statusDetails"]["message"]
    assert [s["name"] for s in bad["steps"]][:2] == [
        "stack up",
        "fault: container_kill redis (proven: container exited)",
    ]
    evidence = bad["steps"][-1]
    assert evidence["name"].startswith("evidence: opens after exactly 5")
    assert any(s["status"] == "failed" for s in evidence["steps"])
    assert [a["name"] for a in bad["attachments"]] == ["PromQL", "window", "values", "timeline"]
    assert by_name["nan [redis-kill/whole]"]["status"] == "broken"
    assert by_name["skip [redis-kill/whole]"]["status"] == "skipped"
    assert {"name": "severity", "value": "critical"} in bad["labels"]
    promql = next(a for a in bad["attachments"] if a["name"] == "PromQL")
    assert "circuit_breaker_state" in (directory / "allure-results" / promql["source"]).read_text()


def test_timeline_svg_shades_the_fault_and_plots_the_series():
    verdict = verdicts()[0]
    svg = timeline_svg(verdict)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    classes = [e.get("class") for e in root.iter(f"{ns}rect")]
    assert {"phase-steady", "phase-fault", "phase-recovery", "window"} <= set(classes)
    fault = next(e for e in root.iter(f"{ns}rect") if e.get("class") == "phase-fault")
    assert float(fault.get("width")) > 0
    assert len([e for e in root.iter(f"{ns}polyline")]) >= 1


SVG = "{http://www.w3.org/2000/svg}"


def _ticks(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}text") if e.get("class") == "value-tick"]


def _xy(polyline: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in polyline.get("points", "").split())]


def test_timeline_svg_names_the_states_of_a_state_gauge_and_draws_them_as_steps():
    root = ET.fromstring(timeline_svg(verdicts()[1]))
    assert _ticks(root) == ["closed", "open", "half-open"]
    lines = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "series state"]
    assert lines
    for line in lines:
        points = _xy(line)
        assert len({round(y) for _, y in points}) > 1  # the breaker changed state
        # steps: each segment is level (a state held) or upright (a change), never a slope
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(points))


def test_timeline_svg_of_a_plain_series_has_numbers_on_its_value_axis():
    series = Series((("job", "a"),), tuple(Sample(TL.whole.start + i, 0.5 * i) for i in range(5)))
    evidence = Evidence(window=TL.fault, phases=TL.phases, plot=(series,), states=())
    root = ET.fromstring(timeline_svg(stamp(Finding("pass", 1.0, "< 9", "fine", evidence), "plain")))
    assert _ticks(root)[0] == "0" and all(t.replace(".", "").isdigit() for t in _ticks(root))
    assert [e.get("class") for e in root.iter(f"{SVG}polyline")] == ["series"]


def test_allure_identity_is_distinct_per_scenario_objective_and_window_and_stable_across_runs(tmp_path):
    base = verdicts()[4]  # the same objective (and measured value) everywhere: only the identity differs
    keys = [("redis-kill", "whole"), ("redis-kill", "fault"), ("redis-pause", "whole"), ("db-kill", "whole")]
    same = [dataclasses.replace(base, scenario=s, window=w) for s, w in keys]
    other = dataclasses.replace(base, id="other")
    runs = []
    for night in ("one", "two"):
        write_allure(tmp_path / night, [*same, other])
        results = [_strict(p.read_text()) for p in (tmp_path / night).glob("*-result.json")]
        runs.append({r["name"]: (r["testCaseId"], r["historyId"]) for r in results})
    assert runs[0] == runs[1]  # stable: every night the same test and the same history line
    assert len(runs[0]) == 5
    assert (
        len({case for case, _ in runs[0].values()}) == len({history for _, history in runs[0].values()}) == 5
    )


def test_timeline_svg_without_samples_says_so():
    svg = timeline_svg(verdicts()[3])
    assert "no samples" in svg
    ET.fromstring(svg)


def test_timeline_svg_draws_the_threshold_line():
    series = Series((("job", "a"),), tuple(Sample(TL.whole.start + i, 0.1 * i) for i in range(20)))
    evidence = Evidence(window=TL.fault, phases=TL.phases, plot=(series,), limit=1.0)
    svg = timeline_svg(stamp(Finding("pass", 0.5, "p99 < 1 s", "fine", evidence), "latency"))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert [e.get("class") for e in root.iter(f"{ns}line") if e.get("class")] == ["limit"]
    assert "p99 &lt; 1 s" in svg


def test_terminal_summary_names_failures_with_reasons_and_the_exit_code():
    from harness.reports import render_summary

    text = render_summary(verdicts())
    lines = text.splitlines()
    assert lines[0].startswith("PASS  breaker-ok [redis-kill/whole] rule 3.4:")
    assert lines[1].startswith("FAIL  breaker-bad")
    assert "expected exactly 5" in lines[2]
    assert "SKIP  skip [redis-kill/whole] rule 3.4 (warn)" in text
    assert "PASS  scalar [redis-kill/whole] rule 3.4: 0.5 vs < 1 s" in text
    assert lines[-1] == "5 verdicts: 2 passed, 1 failed, 1 errors, 1 skipped; exit 1 (an SLA failed)"


def test_a_new_run_replaces_the_previous_allure_results_but_keeps_history(tmp_path):
    results = tmp_path / "allure-results"
    write_reports(tmp_path, verdicts())
    first = set(results.glob("*-result.json"))
    (results / "history").mkdir()
    (results / "history" / "history.json").write_text("{}")
    write_reports(tmp_path, verdicts())
    second = set(results.glob("*-result.json"))
    assert len(second) == len(first) == len(verdicts())
    assert not first & second
    assert (results / "history" / "history.json").exists()
