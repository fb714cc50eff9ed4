from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.catalogue import load_catalogue
from harness.catalogue.history import with_history
from harness.catalogue.load_spec import require_load
from harness.commands._stack_options import add_stack_options
from harness.errors import InputError
from harness.history.store import check_history
from harness.packaged import suites_folder
from harness.reports.files import prepare_directory
from harness.stack import require_compose_files

HELP = "run the chaos scenarios and judge every SLA; exit 0 pass, 1 an SLA failed, 2 could not measure"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    parser.add_argument("--slas", default="slas.yaml", help="the SLA catalogue (default slas.yaml)")
    parser.add_argument("--reports", default="reports", help="where reports go (default reports/)")
    parser.add_argument(
        "--suites",
        nargs="+",
        default=[],
        metavar="FOLDER",
        help="folders of scenario suites of your own, run after the packaged ones and slas.yaml's suites: "
        "(default: none)",
    )
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running at the end")
    parser.add_argument(
        "--nightly",
        action="store_true",
        help="also run the scenarios slas.yaml marks `nightly: true`, such as a 5-minute idle (default: left out)",
    )
    parser.add_argument("--history", help="the history file (default: slas.yaml defaults.history)")
    parser.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="after --, passed to pytest: -- -k redis"
    )


def run(args: argparse.Namespace) -> int:
    # Bad input is one line and exit 2 here, before pytest would report it once per scenario.
    require_compose_files([Path(f) for f in args.stack])
    catalogue = with_history(load_catalogue(args.slas), args.history)
    check_history(catalogue.defaults.history)
    require_load(args.slas, catalogue.load)
    missing = next((f for f in args.suites if not Path(f).is_dir()), None)
    if missing is not None:
        raise InputError(missing, None, "no such folder of scenario suites")
    prepare_directory(Path(args.reports))
    suites = [str(suites_folder()), *map(str, catalogue.suites), *args.suites]
    argv = [*suites, "--stack", *args.stack, "--slas", args.slas, "--reports", args.reports]
    if args.project_name:
        argv += ["--project-name", args.project_name]
    if args.driver:
        argv += ["--driver", args.driver]
    if args.keep_stack:
        argv.append("--keep-stack")
    if args.nightly:
        argv.append("--nightly")
    if args.history:
        argv += ["--history", args.history]
    if args.allow_remote_engine:
        argv.append("--allow-remote-engine")
    # The plugin sets the session's exit status to the SLA verdict's exit code.
    passthrough = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    return int(pytest.main([*argv, "-p", "harness.pytest_plugin", "-p", "no:cacheprovider", *passthrough]))
