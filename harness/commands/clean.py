"""`python -m harness clean`: revert every fault a crashed run left in force, and stop its load."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.catalogue import load_catalogue
from harness.commands._stack_options import add_stack_options, open_stack
from harness.events.follower import JOB as EVENTS_JOB
from harness.faults import Journal, sweep
from harness.load.driver import LoadError
from harness.load.pushgateway import JOB as LOAD_JOB
from harness.load.pushgateway import delete_stale_groups
from harness.state import ProjectLock, journal_path
from harness.swarm.stack import release_crashed_swarm

HELP = (
    "revert every fault the harness left in force and stop the load a killed run left running (journal "
    "first, then paused containers, stopped ones that always run, the project's stress and burst helpers, "
    "harness-* toxics and disabled proxies; a Swarm a crashed run initialised: its stack removed, the Swarm "
    "left); "
    "exit 2 if any could not be reverted, or if a run is using the stack"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    parser.add_argument(
        "--slas", default="slas.yaml", help="where defaults.endpoints.faultproxy is read from"
    )
    parser.add_argument(
        "--proxy-url", help="fault proxy API (default: slas.yaml's defaults.endpoints.faultproxy)"
    )
    parser.add_argument(
        "--journal",
        type=Path,
        help="fault journal (default: the stack project's, $HARNESS_STATE_DIR/<project>/faults-in-force.json,"
        " else $XDG_STATE_HOME/harness/<project>/..., else ~/.local/state/harness/<project>/...)",
    )
    parser.add_argument(
        "--no-proxy", action="store_true", help="the stack has no fault proxy: sweep containers only"
    )


def run(args: argparse.Namespace) -> int:
    endpoints = load_catalogue(args.slas).defaults.endpoints
    proxy_url = None if args.no_proxy else args.proxy_url or endpoints.faultproxy
    stack, project = open_stack(args)
    # A run in progress has its faults and load on purpose: refuse rather than undo them under it.
    with ProjectLock(project.name):
        report = sweep(Journal(args.journal or journal_path(project.name)), stack, proxy_url)
        for line in report.cleaned:
            print(f"cleaned: {line}")
        for line in report.errors:
            print(f"harness clean: could not clean: {line}", file=sys.stderr)
        if endpoints.pushgateway:
            _delete_stale_groups(endpoints.pushgateway)
        for line in release_crashed_swarm(stack):
            print(f"cleaned: {line}")
    if report.ok:
        print(
            f"stack {project.name}: no fault left in force"
            + ("" if report.cleaned else " (nothing to clean)")
        )
    return 0 if report.ok else 2


def _delete_stale_groups(pushgateway_url: str) -> None:
    """Groups of runs the journal no longer names (an older journal, another one given by --journal), and
    the engine-event series of a killed run: a killed run's series stay pushed until deleted."""
    for job, what in ((LOAD_JOB, "load metrics"), (EVENTS_JOB, "engine-event series")):
        try:
            for run_id in delete_stale_groups(pushgateway_url, job=job):
                print(f"cleaned: {what} of run {run_id} from the Pushgateway")
        except LoadError as exc:
            print(f"harness clean: could not clean the Pushgateway: {exc}", file=sys.stderr)
