"""`make mutants`: run every mutant of the reference stack and print which check caught it.

Each stack/mutants/NAME.yml declares in ``x-detection`` the scenario that exposes it, the SLA checks
meant to catch it, and the lint rules that see it statically. A mutant is caught when the static lint
reports every declared rule as an error, and when its scenario run exits as declared (``exit``, default 1;
0 for a check of warn severity) with every declared check failed. A mutant caught only against its own past
(a regression check) declares ``history_runs: N``: the compliant stack runs the scenario N times first,
into a history of the mutant's own. Exit 0 when every mutant that declares a detection is caught, 1 otherwise.

    python stack/mutants/matrix.py [NAME ...]      (default: every mutant)
    python stack/mutants/matrix.py --from-reports [NAME ...]   (the table again, from the last run's reports)

The table is Markdown (the README holds the latest one): per mutant, the lint rules it broke, its scenario,
every check that failed (``*`` marks the ones meant to catch it, so a mutant caught by more than its own
check shows it), the run's exit code, and whether it was caught.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MUTANTS = REPO / "stack" / "mutants"
STACK = REPO / "stack" / "compose.yml"
SLAS = REPO / "slas.yaml"
HARNESS = [sys.executable, "-m", "harness"]


@dataclass
class Outcome:
    name: str
    scenario: str | None
    checks: list[str]
    lint_rules: list[str]
    lint_found: set[str] = field(default_factory=set)
    expected_exit: int = 1
    history_runs: int = 0
    exit_code: int | None = None
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        return bool(self.checks or self.lint_rules)

    @property
    def caught(self) -> bool:
        lint_ok = set(self.lint_rules) <= self.lint_found
        run_ok = not self.checks or (
            self.exit_code == self.expected_exit and all(self.statuses.get(c) == "fail" for c in self.checks)
        )
        return self.declared and lint_ok and run_ok


def _outcome(path: Path) -> Outcome:
    spec = (yaml.safe_load(path.read_text()) or {}).get("x-detection") or {}
    return Outcome(
        path.stem,
        spec.get("scenario"),
        list(spec.get("checks") or []),
        [str(r) for r in spec.get("lint") or []],
        expected_exit=int(spec.get("exit", 1)),
        history_runs=int(spec.get("history_runs", 0)),
    )


def _lint_errors(path: Path) -> set[str]:
    argv = [*HARNESS, "lint", str(STACK), str(path), "--slas", str(SLAS), "--format", "json"]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"lint of {path.name} could not run: {result.stderr.strip()}")
    return {
        f["rule"]
        for f in json.loads(result.stdout)["findings"]
        if f["severity"] == "error" and not f.get("suppressed")
    }


def _run(reports: Path, scenario: str, *stack_files: Path, history: Path | None = None) -> int:
    argv = [
        *HARNESS,
        "run",
        "--stack",
        *map(str, stack_files),
        "--slas",
        str(SLAS),
        "--reports",
        str(reports),
    ]
    argv += ["--history", str(history)] if history else []
    # --nightly: a mutant's scenario may be a nightly-only one (the idle window of hibernation).
    argv += ["--keep-stack", "--nightly", "--", "-k", scenario]
    return subprocess.run(argv, cwd=REPO, check=False).returncode


def _reports(outcome: Outcome) -> Path:
    return REPO / "reports" / "mutants" / outcome.name


def _read_verdicts(outcome: Outcome) -> None:
    """The exit code and statuses of the mutant's last run, from its reports (left as they are if none)."""
    path = _reports(outcome) / "verdicts.json"
    if path.is_file():
        document = json.loads(path.read_text())
        outcome.exit_code = int(document["exit_code"])
        outcome.statuses = {v["id"]: v["status"] for v in document["verdicts"]}


def _run_scenario(outcome: Outcome, path: Path) -> None:
    reports = _reports(outcome)
    scenario = outcome.scenario or ""
    history = reports / "history.sqlite" if outcome.history_runs else None
    if history:
        history.unlink(missing_ok=True)
    for night in range(1, outcome.history_runs + 1):
        print(f"== {outcome.name}: compliant run {night}/{outcome.history_runs} for the history", flush=True)
        _run(reports / f"compliant-{night}", scenario, STACK, history=history)
    print(f"== {outcome.name}: scenario {scenario}", flush=True)
    outcome.exit_code = _run(reports, scenario, STACK, path, history=history)
    _read_verdicts(outcome)


def _table(outcomes: list[Outcome]) -> str:
    rows = [
        "| mutant | lint errors | scenario | checks failed | exit | caught |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        lint = ", ".join(f"{r} *" if r in o.lint_rules else r for r in sorted(o.lint_found)) or "clean"
        failed = sorted(c for c, status in o.statuses.items() if status == "fail")
        missed = [c for c in o.checks if c not in failed]
        checks = ", ".join(
            [f"{c} *" if c in o.checks else c for c in failed] + [f"{c} * (not failed)" for c in missed]
        )
        exit_text = "-" if o.exit_code is None else str(o.exit_code)
        caught = "yes" if o.caught else ("NO" if o.declared else "no check yet")
        rows.append(f"| {o.name} | {lint} | {o.scenario or '-'} | {checks or '-'} | {exit_text} | {caught} |")
    return "\n".join(rows) + "\n\n(* = meant to catch that mutant)"


def main(names: list[str]) -> int:
    from_reports = names[:1] == ["--from-reports"]
    names = names[1:] if from_reports else names
    paths = [MUTANTS / f"{n}.yml" for n in names] if names else sorted(MUTANTS.glob("*.yml"))
    outcomes = []
    if not from_reports:
        # A clean start: a stack left running (--keep-stack, a killed matrix) may hold another clone's
        # secrets in its database volumes, which the recreated agents would be refused with.
        subprocess.run([*HARNESS, "down"], cwd=REPO, check=False)
    try:
        for path in paths:
            outcome = _outcome(path)
            outcome.lint_found = _lint_errors(path)
            if outcome.scenario and from_reports:
                _read_verdicts(outcome)
            elif outcome.scenario:
                _run_scenario(outcome, path)
            outcomes.append(outcome)
    finally:
        if not from_reports:
            subprocess.run([*HARNESS, "down"], cwd=REPO, check=False)
    print("\n" + _table(outcomes))
    missed = [o.name for o in outcomes if o.declared and not o.caught]
    if missed:
        print(f"\nnot caught: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
