"""`python -m harness judge`: judge a recorded run again from Prometheus and write the reports.

A re-judge is not a new night: it is not appended to the history. Its regression verdicts compare
with the runs that started before the recorded run did, so judging again gives the night's answer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.analyzers.judge import judge_scenario
from harness.catalogue.model import Catalogue
from harness.catalogue.parse import load_catalogue
from harness.catalogue.reader import url_problem
from harness.errors import InputError
from harness.history.recording import rejudge_history
from harness.history.store import check_history
from harness.metrics.port import MetricsSource
from harness.metrics.prometheus import PrometheusSource
from harness.reports import write_reports
from harness.reports.files import prepare_directory
from harness.reports.run_record import RunRecord, load_run_record
from harness.reports.summary import render_summary
from harness.verdict import Verdict

HELP = "judge a recorded run (reports/run.json) again from Prometheus: reports and exit code 0/1/2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slas", default="slas.yaml", help="the SLA catalogue (default: slas.yaml)")
    parser.add_argument(
        "--run", default="reports/run.json", help="the run record (default: reports/run.json)"
    )
    parser.add_argument("--reports", default="reports", help="where the reports go (default: reports/)")
    parser.add_argument("--prometheus", help="Prometheus URL (default: slas.yaml defaults.prometheus.url)")


def judge_run(catalogue: Catalogue, record: RunRecord, source: MetricsSource, run_path: str) -> list[Verdict]:
    known = {s.name for s in catalogue.scenarios}
    verdicts: list[Verdict] = []
    for scenario in record.scenarios:
        if scenario.name not in known:
            raise InputError(run_path, None, f"scenario '{scenario.name}' is not in {catalogue.path}")
        verdicts += judge_scenario(
            catalogue,
            catalogue.scenario(scenario.name),
            scenario.timeline,
            source,
            record.graph,
            record.bring_up,
        )
    return verdicts


def run(args: argparse.Namespace) -> int:
    # Every input is checked before the first query: a typo is one line, not an error verdict per SLA.
    if args.prometheus is not None and (problem := url_problem(args.prometheus)):
        raise InputError("--prometheus", None, problem)
    catalogue = load_catalogue(args.slas)
    record = load_run_record(args.run)
    if any(o.regression for o in catalogue.objectives):
        check_history(catalogue.defaults.history)
    reports = Path(args.reports)
    prepare_directory(reports)
    settings = catalogue.defaults.prometheus
    source = PrometheusSource(args.prometheus or settings.url, settings.query_timeout)
    verdicts = judge_run(catalogue, record, source, args.run)
    verdicts += rejudge_history(catalogue, record).regressions(verdicts)
    code = write_reports(reports, verdicts, record.steps(), catalogue=catalogue)
    print(render_summary(verdicts, catalogue=catalogue))
    return code
