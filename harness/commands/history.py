"""`python -m harness history`: the runs the history holds, or one objective's figures across them."""

from __future__ import annotations

import argparse

from harness.commands._history_options import add_history_options, history_file, number, table, when
from harness.errors import InputError
from harness.history.store import HistoryStore, reading

HELP = (
    "list the recorded runs (id, time, revision, verdicts, exit code), or one objective's figures across them"
)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_history_options(parser)
    parser.add_argument("--objective", metavar="ID", help="show this objective's figures in every run")
    parser.add_argument("--last", type=_positive, metavar="N", help="only the latest N runs (default: all)")


def runs_table(store: HistoryStore, last: int | None) -> str:
    rows = [
        [
            r.info.run_id,
            when(r.info.time),
            r.info.revision[:12] or "-",
            ", ".join(f"{n} {status}" for status, n in r.counts) or "none",
            str(r.exit_code),
        ]
        for r in store.runs(last)
    ]
    return table(["run", "time (UTC)", "revision", "verdicts", "exit"], rows)


def objective_table(store: HistoryStore, objective: str, last: int | None) -> str:
    runs = {r.info.run_id for r in store.runs(last)}
    values = [v for v in store.values(objective) if v.run.run_id in runs]
    if not values:
        known = ", ".join(store.objective_ids()) or "none"
        raise InputError(store.path, None, f"no figures of objective '{objective}' (recorded: {known})")
    rows = [
        [v.run.run_id, when(v.run.time), v.scenario, v.name, number(v.value, v.unit), v.status]
        for v in values
    ]
    return table(["run", "time (UTC)", "scenario", "figure", "value", "status"], rows)


def run(args: argparse.Namespace) -> int:
    with reading(history_file(args)) as store:
        if args.objective:
            print(objective_table(store, args.objective, args.last))
        else:
            print(runs_table(store, args.last))
    return 0
