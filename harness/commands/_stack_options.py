"""The options every stack command shares, and turning them into a Stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.compose import Project
from harness.stack import DEFAULT_STACK, Stack


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
    stack = Stack.from_files([Path(f) for f in args.stack], args.project_name)
    return stack, stack.project
