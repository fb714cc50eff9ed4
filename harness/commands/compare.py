"""`python -m harness compare RUN_A RUN_B`: two recorded runs side by side, figure by figure.

Each figure's change from A to B, absolute and relative, and whether it is beyond the noise: the
objective's own regression method (``regression:`` in slas.yaml; else E-Divisive over the last 10
values) run over the figure's values from the N runs up to the older of the two through the newer. The
change is beyond the noise when the method finds a step between the two runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from harness.catalogue.model import Catalogue
from harness.catalogue.parse import load_catalogue
from harness.commands._history_options import add_history_options, history_file, number, table
from harness.errors import InputError
from harness.history.changepoint import latest_step
from harness.history.regression import MEASURED_STATUSES
from harness.history.spec import RegressionSpec
from harness.history.store import HistoryStore, RunSummary, Value, reading

HELP = "two recorded runs side by side: every figure of every objective, its change, and whether it is beyond the noise"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="a run id, as `history` lists them")
    parser.add_argument("run_b", metavar="RUN_B", help="another run id")
    add_history_options(parser)


def _run(store: HistoryStore, run_id: str) -> RunSummary:
    found = store.run(run_id)
    if found is None:
        latest = ", ".join(r.info.run_id for r in store.runs(3)) or "none"
        raise InputError(store.path, None, f"no run '{run_id}' in the history (latest: {latest})")
    return found


def _spec(catalogue: Catalogue, objective: str, figure: str) -> RegressionSpec:
    """The objective's own method and N for its regression figure; the defaults for any other."""
    own = next((o.regression for o in catalogue.objectives if o.id == objective), None)
    return own if own is not None and own.metric == figure else RegressionSpec(figure)


def noise_verdict(series: Sequence[Value], older: str, newer: str, spec: RegressionSpec) -> str:
    """Whether the figure's ``series`` (oldest first) steps between the runs ``older`` and ``newer``."""
    usable = [v for v in series if v.status in MEASURED_STATUSES and math.isfinite(v.value)]
    ids = [v.run.run_id for v in usable]
    if older not in ids or newer not in ids:
        return "-"
    start, end = ids.index(older), ids.index(newer)
    if start + 1 < spec.compare_with:
        return f"unknown: {start + 1} values up to {older}, needs {spec.compare_with}"
    window = usable[start + 1 - spec.compare_with : end + 1]
    step = latest_step([v.value for v in window], spec.method)
    if step is None or step.index < spec.compare_with:
        return f"within the noise ({spec.method}, last {spec.compare_with})"
    return (
        f"beyond the noise: step at {window[step.index].run.run_id} ({spec.method}, last {spec.compare_with})"
    )


def _change(a: float, b: float) -> tuple[str, str]:
    if not (math.isfinite(a) and math.isfinite(b)):
        return "-", "-"
    percent = "-" if a == 0 else f"{(b - a) / abs(a):+.1%}"
    return f"{b - a:+.6g}", percent


def comparison_rows(
    store: HistoryStore, catalogue: Catalogue, a: RunSummary, b: RunSummary
) -> list[list[str]]:
    older, newer = sorted((a, b), key=lambda r: (r.info.time, r.info.run_id))
    rows = []
    objectives = sorted(set(store.objective_ids(a.info.run_id)) | set(store.objective_ids(b.info.run_id)))
    for objective in objectives:
        in_a = {(v.scenario, v.name): v for v in store.values(objective, run_id=a.info.run_id)}
        in_b = {(v.scenario, v.name): v for v in store.values(objective, run_id=b.info.run_id)}
        for scenario, name in sorted(in_a.keys() | in_b.keys()):
            va, vb = in_a.get((scenario, name)), in_b.get((scenario, name))
            change = _change(va.value, vb.value) if va and vb else ("-", "-")
            noise = "-"
            if va and vb:
                series = store.values(objective, scenario, name)
                noise = noise_verdict(
                    series, older.info.run_id, newer.info.run_id, _spec(catalogue, objective, name)
                )
            shown = [number(v.value, v.unit) if v else "-" for v in (va, vb)]
            rows.append([objective, scenario, name, *shown, *change, noise])
    return rows


def run(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.slas)
    with reading(history_file(args, catalogue)) as store:
        a, b = _run(store, args.run_a), _run(store, args.run_b)
        rows = comparison_rows(store, catalogue, a, b)
    header = ["objective", "scenario", "figure", a.info.run_id, b.info.run_id, "change", "%", "noise"]
    print(table(header, rows))
    return 0
