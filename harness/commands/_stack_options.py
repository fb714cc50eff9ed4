"""The options every stack command shares, and turning them into a Stack."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from harness.compose import Project
from harness.driver import add_driver_option, open_stack_files, resolve_driver
from harness.labels import DEFAULT_LABELS
from harness.lint.config import load_config
from harness.remote import add_engine_options
from harness.stack import DEFAULT_STACK, Stack

_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        nargs="+",
        default=[DEFAULT_STACK],
        metavar="FILE",
        help=f"compose files, merged like `compose -f A -f B` (default: {DEFAULT_STACK})",
    )
    parser.add_argument(
        "--project-name",
        type=_project_name,
        help="Compose project name (default: as Compose chooses it)",
    )
    add_driver_option(parser)
    add_engine_options(parser)


def _project_name(text: str) -> str:
    # Compose's own rule, checked here so a bad name is a usage error before any engine is touched.
    if not _PROJECT_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected lower case letters, digits, '-' and '_', starting with a letter or digit, got {text!r}"
        )
    return text


def add_labels_option(parser: argparse.ArgumentParser) -> None:
    """For the commands that read the services' labels but no catalogue of their own (up, status)."""
    parser.add_argument(
        "--slas",
        metavar="SLAS_YAML",
        help="the slas.yaml whose labels: section names the phase, tier and pool labels "
        f"(default: {DEFAULT_LABELS.phase}, {DEFAULT_LABELS.tier}, {DEFAULT_LABELS.pool})",
    )


def open_stack(args: argparse.Namespace) -> tuple[Stack, Project]:
    # The lint's reader of slas.yaml: it reads labels: without the whole catalogue.
    labels = load_config(args.slas).labels if getattr(args, "slas", None) else DEFAULT_LABELS
    driver = resolve_driver(getattr(args, "driver", None), getattr(args, "slas", None) or "slas.yaml")
    stack = open_stack_files(driver, [Path(f) for f in args.stack], args.project_name, labels)
    return stack, stack.project
