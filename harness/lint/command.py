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
    # --stack as in every other command; the positional files stay as its synonym.
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="compose files, merged like docker compose -f (or --stack)"
    )
    parser.add_argument(
        "--stack", nargs="+", metavar="FILE", dest="stack_files", help="compose files, as FILE"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--slas",
        metavar="SLAS_YAML",
        help="slas.yaml with pools: and lint: sections (default: the rules' values)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    from harness.lint.compose_cli import CLIS, detect

    parser.add_argument(
        "--compose",
        choices=CLIS,
        help="judge as this Compose CLI reads the files (service keys it accepts; how mem_limit, "
        "mem_reservation and cpus combine with deploy.resources): v1 = docker-compose 1.29, "
        "v2 = docker compose. Default: the one this machine has (the docker compose plugin, else a "
        f"docker-compose 1.x, else v2): {detect()} here",
    )


def _write(path: str, text: str) -> bool:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from harness.errors import InputError
    from harness.lint.compose_cli import detect
    from harness.lint.config import load_config
    from harness.lint.engine import lint_model
    from harness.lint.findings import input_error_report
    from harness.lint.formats import RENDERERS
    from harness.lint.loader import load_compose

    render = RENDERERS[args.format]
    files = [*args.files, *(args.stack_files or ())]
    if not files:
        print("harness lint: no compose file: give FILE ... or --stack FILE ...", file=sys.stderr)
        return 2
    try:
        config = replace(load_config(args.slas).resolved(), compose=args.compose or detect())
        report = lint_model(load_compose(files, os.environ, config), config)
    except InputError as exc:
        print(exc, file=sys.stderr)
        if args.output:  # CI uploads the report file whatever happened: it must exist and parse
            _write(args.output, render(input_error_report(exc.path, exc.line, exc.column, str(exc))))
        return 2
    text = render(report)
    if not args.output:
        sys.stdout.write(text)
    elif not _write(args.output, text):
        return 2
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness lint", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
