"""What ``write_reports`` is given to judge a run's regressions against the history and to append it.

The history records; it does not gate by itself. A history that cannot be read makes every regression
verdict ``error`` naming why (a check that could not be made, never a silent pass, so a gate objective's
regression makes the exit code 2 like any unmeasured check). A run that cannot be appended (disk full,
a foreign file at the path) keeps the exit code its verdicts earned, and says so in one line on
stderr: the SLAs were measured, and blocking a release because the archive failed would answer a
question about the archive.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue.model import Catalogue, Objective
from harness.errors import InputError
from harness.history.regression import regression_verdict
from harness.history.revision import stack_revision
from harness.history.store import HistoryStore, RunInfo, Value, open_for_append, open_history
from harness.reports.run_record import RunRecord
from harness.verdict import Verdict


@dataclass(frozen=True, slots=True)
class RunHistory:
    path: str
    objectives: tuple[Objective, ...]
    run: RunInfo | None
    """The run to append; None when judging a recorded run again (a re-judge is not a new night)."""
    before: float
    """Runs that started before this instant (unix seconds) are the earlier values."""

    def regressions(self, verdicts: Sequence[Verdict]) -> tuple[Verdict, ...]:
        """The regression verdict of every threshold verdict whose objective has ``regression:``."""
        judged = [
            (o, o.regression, v) for o in self.objectives if o.regression for v in verdicts if v.id == o.id
        ]
        if not judged:
            return ()
        try:
            with self._reading() as store:
                return tuple(
                    regression_verdict(
                        o, spec, v, self._earlier(store, o.id, v.scenario, spec.metric), self.before
                    )
                    for o, spec, v in judged
                )
        except InputError as exc:
            return tuple(regression_verdict(o, spec, v, (), self.before, str(exc)) for o, spec, v in judged)

    def record(self, verdicts: Sequence[Verdict], exit_code: int) -> None:
        """Append the run (if this is a run): on failure, one line on stderr; the exit code stands."""
        if self.run is None:
            return
        try:
            store = open_for_append(self.path)
            try:
                store.append(self.run, verdicts, exit_code)
            finally:
                store.close()
        except InputError as exc:
            print(f"harness: history not recorded: {exc}", file=sys.stderr)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[HistoryStore | None]:
        if not Path(self.path).exists():
            yield None  # no history yet: no earlier values
            return
        store = open_history(self.path)
        try:
            yield store
        finally:
            store.close()

    def _earlier(self, store: HistoryStore | None, objective: str, scenario: str, figure: str) -> list[Value]:
        values = store.values(objective, scenario, figure) if store else []
        return [v for v in values if v.run.time < self.before]


def record_started(record: RunRecord) -> float | None:
    """When a recorded run's first scenario started: the instant the history knows the run by."""
    return min((s.marks.steady_start for s in record.scenarios), default=None)


def run_history(catalogue: Catalogue, run_id: str, record: RunRecord, compose_file: Path) -> RunHistory:
    """The history of a new run, to be appended; a run that reached no scenario is known by now."""
    started = record_started(record) or time.time()
    run = RunInfo(run_id, started, stack_revision(compose_file))
    return RunHistory(catalogue.defaults.history, catalogue.objectives, run, started)


def rejudge_history(catalogue: Catalogue, record: RunRecord) -> RunHistory:
    """The history a recorded run is judged again against: the runs that started before it."""
    return RunHistory(catalogue.defaults.history, catalogue.objectives, None, record_started(record) or 0.0)
