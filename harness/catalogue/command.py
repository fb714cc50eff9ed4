"""`python -m harness slas`: check an SLA catalogue and show what it will judge."""

from __future__ import annotations

import argparse
import json

from harness.catalogue.model import Catalogue, Grading, Scenario
from harness.catalogue.parse import load_catalogue
from harness.catalogue.schema import catalogue_schema
from harness.scoring import percent

HELP = "check slas.yaml (one error with file:line, exit 2) and list its scenarios and objectives"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slas", default="slas.yaml", help="the SLA catalogue (default: slas.yaml)")
    parser.add_argument(
        "--schema",
        action="store_true",
        help="print slas.yaml's JSON Schema (for editors: yaml-language-server) instead of checking a file",
    )


def _scenario_line(scenario: Scenario) -> str:
    w, load = scenario.windows, scenario.load
    if scenario.fault is None:
        timing, fault = f"steady {w.steady:g} s", "no fault"
    else:
        timing = f"steady {w.steady:g} s, fault {w.fault:g} s, recovery {w.recovery:g} s"
        attributes = ", ".join(f"{k}={v:g}" for k, v in scenario.fault.attributes)
        fault = f"{scenario.fault.kind} {scenario.fault.target}" + (f" ({attributes})" if attributes else "")
    workers = f" over {load.workers} Locust workers" if load.workers > 1 else ""
    nightly = "; nightly only (--nightly)" if scenario.nightly else ""
    drivers = f"; {' or '.join(scenario.drivers)} driver only" if scenario.drivers else ""
    return f"  {scenario.name}: {fault}; {timing}; load {load.users} users, {load.rate:g}/s{workers}{nightly}{drivers}"


def summary(catalogue: Catalogue) -> str:
    lines = [
        f"{catalogue.path}: {len(catalogue.scenarios)} scenarios, {len(catalogue.objectives)} objectives",
        "scenarios:",
    ]
    lines += [_scenario_line(s) for s in catalogue.scenarios]
    lines.append("objectives:")
    for o in catalogue.objectives:
        where = "all" if len(o.scenarios) == len(catalogue.scenarios) else ", ".join(o.scenarios)
        lines.append(
            f"  {o.id} (rule {o.rule}, {o.severity}, {o.window} window of {where}): "
            f"{o.measurement.analyzer}: {o.measurement.threshold}{_grading_text(o.grading)}"
        )
    limits = catalogue.total_score
    if limits.gate:
        lines.append(f"total_score: pass {percent(limits.pass_)}, warning {percent(limits.warning)}")
    return "\n".join(lines)


def _grading_text(grading: Grading) -> str:
    """``; weight 2, pass <= 0.005, warning <= 0.008``: what differs from scoring a pass in full, once."""
    parts = [f"weight {grading.weight:g}"] if grading.weight != 1 else []
    for name, criteria in (("pass", grading.pass_criteria), ("warning", grading.warning_criteria)):
        if criteria:
            parts.append(f"{name} " + " and ".join(c.text() for c in criteria))
    return "; " + ", ".join(parts) if parts else ""


def run(args: argparse.Namespace) -> int:
    if args.schema:
        print(json.dumps(catalogue_schema(), indent=2))
        return 0
    print(summary(load_catalogue(args.slas)))
    return 0
