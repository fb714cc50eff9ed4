"""``python -m harness lint FILE [FILE ...]``: the pre-deployment compliance gate.

Exit codes: 0 no errors (warnings allowed), 1 errors, 2 input that cannot be read. The heavy modules are
imported inside ``run`` so that the CLI starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

HELP = "check compose files against the architecture rules, statically (no Docker engine needed)"
FORMATS = ("text", "json", "junit", "sarif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="compose files, merged like docker compose -f"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--slas",
        metavar="SLAS_YAML",
        help="slas.yaml with pools: and lint: sections (default: the rules' values)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")


def run(args: argparse.Namespace) -> int:
    from harness.errors import InputError
    from harness.lint.config import load_config
    from harness.lint.engine import lint_model
    from harness.lint.formats import RENDERERS
    from harness.lint.loader import load_compose

    try:
        config = load_config(args.slas).resolved()
        report = lint_model(load_compose(args.files, os.environ, config), config)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2
    text = RENDERERS[args.format](report)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"{args.output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness lint", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
