"""`python -m harness clean`: revert every fault a crashed run left in force."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.catalogue import load_catalogue
from harness.commands._stack_options import add_stack_options, open_stack
from harness.faults import DEFAULT_JOURNAL, Journal, sweep
from harness.load.driver import LoadError
from harness.load.pushgateway import delete_stale_groups

HELP = (
    "revert every fault the harness left in force (journal first, then paused containers, "
    "harness-* toxics and disabled proxies); exit 2 if any could not be reverted"
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
        "--journal", type=Path, default=DEFAULT_JOURNAL, help=f"fault journal (default: {DEFAULT_JOURNAL})"
    )
    parser.add_argument(
        "--no-proxy", action="store_true", help="the stack has no fault proxy: sweep containers only"
    )


def run(args: argparse.Namespace) -> int:
    endpoints = load_catalogue(args.slas).defaults.endpoints
    proxy_url = None if args.no_proxy else args.proxy_url or endpoints.faultproxy
    stack, project = open_stack(args)
    report = sweep(Journal(args.journal), stack, proxy_url)
    for line in report.cleaned:
        print(f"cleaned: {line}")
    for line in report.errors:
        print(f"harness clean: could not clean: {line}", file=sys.stderr)
    if endpoints.pushgateway:
        # A killed run's load stops by itself, but its client-side series stay pushed until deleted.
        try:
            for run_id in delete_stale_groups(endpoints.pushgateway):
                print(f"cleaned: load metrics of run {run_id} from the Pushgateway")
        except LoadError as exc:
            print(f"harness clean: could not clean the Pushgateway: {exc}", file=sys.stderr)
    if report.ok:
        print(
            f"stack {project.name}: no fault left in force"
            + ("" if report.cleaned else " (nothing to clean)")
        )
    return 0 if report.ok else 2
