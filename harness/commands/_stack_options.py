"""The options every stack command shares, and turning them into a Stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.compose import Compose, Project, default_project_name
from harness.engine import ensure_engine
from harness.errors import InputError
from harness.stack import Stack

DEFAULT_STACK = "stack/compose.yml"


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        nargs="+",
        default=[DEFAULT_STACK],
        metavar="FILE",
        help=f"compose files, merged like `compose -f A -f B` (default: {DEFAULT_STACK})",
    )
    parser.add_argument("--project-name", help="Compose project name (default: as Compose chooses it)")


def open_stack(args: argparse.Namespace) -> tuple[Stack, Project]:
    files = [Path(f) for f in args.stack]
    for path in files:
        if not path.is_file():
            raise InputError(str(path), None, "no such compose file")
    engine = ensure_engine()
    name = args.project_name or default_project_name(files[0])
    compose = Compose(engine.compose_command, files, name)
    project = compose.load_project()
    return Stack(compose, project), project
