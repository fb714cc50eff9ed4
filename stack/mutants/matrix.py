"""`make mutants`: run every mutant of the reference stack and print which check caught it.

Each stack/mutants/NAME.yml declares in ``x-detection`` the scenario that exposes it, the SLA checks
meant to catch it, and the lint rules that see it statically. A mutant is caught when the static lint
reports every declared rule as an error, and when its scenario run exits 1 with every declared check
failed. Exit 0 when every mutant that declares a detection is caught, 1 otherwise.

    python stack/mutants/matrix.py [NAME ...]      (default: every mutant)
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
    exit_code: int | None = None
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        return bool(self.checks or self.lint_rules)

    @property
    def caught(self) -> bool:
        lint_ok = set(self.lint_rules) <= self.lint_found
        run_ok = not self.checks or (
            self.exit_code == 1 and all(self.statuses.get(c) == "fail" for c in self.checks)
        )
        return self.declared and lint_ok and run_ok


def _detection(path: Path) -> tuple[str | None, list[str], list[str]]:
    spec = (yaml.safe_load(path.read_text()) or {}).get("x-detection") or {}
    return spec.get("scenario"), list(spec.get("checks") or []), [str(r) for r in spec.get("lint") or []]


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


def _run_scenario(outcome: Outcome, path: Path) -> None:
    reports = REPO / "reports" / "mutants" / outcome.name
    argv = [*HARNESS, "run", "--stack", str(STACK), str(path), "--slas", str(SLAS), "--reports", str(reports)]
    argv += ["--keep-stack", "--", "-k", outcome.scenario or ""]
    print(f"== {outcome.name}: scenario {outcome.scenario}", flush=True)
    outcome.exit_code = subprocess.run(argv, cwd=REPO, check=False).returncode
    verdicts = json.loads((reports / "verdicts.json").read_text())["verdicts"]
    outcome.statuses = {v["id"]: v["status"] for v in verdicts}


def _table(outcomes: list[Outcome]) -> str:
    checks = sorted({c for o in outcomes for c in o.statuses} | {c for o in outcomes for c in o.checks})
    header = ["mutant", "lint", *checks, "exit", "caught"]
    rows = [header]
    for o in outcomes:
        lint = ",".join(sorted(o.lint_found)) or "clean"
        if o.lint_rules:
            lint += " *"
        cells = [f"{o.statuses.get(c, '-')}{' *' if c in o.checks else ''}" for c in checks]
        exit_text = "-" if o.exit_code is None else str(o.exit_code)
        caught = "yes" if o.caught else ("NO" if o.declared else "no check yet")
        rows.append([o.name, lint, *cells, exit_text, caught])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines) + "\n(* = the check meant to catch that mutant)"


def main(names: list[str]) -> int:
    paths = [MUTANTS / f"{n}.yml" for n in names] if names else sorted(MUTANTS.glob("*.yml"))
    outcomes = []
    try:
        for path in paths:
            scenario, checks, lint_rules = _detection(path)
            outcome = Outcome(path.stem, scenario, checks, lint_rules, lint_found=_lint_errors(path))
            if scenario:
                _run_scenario(outcome, path)
            outcomes.append(outcome)
    finally:
        subprocess.run([*HARNESS, "down"], cwd=REPO, check=False)
    print("\n" + _table(outcomes))
    missed = [o.name for o in outcomes if o.declared and not o.caught]
    if missed:
        print(f"\nnot caught: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
