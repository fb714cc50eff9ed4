"""`python -m harness init COMPOSE...`: write a starter slas.yaml for a stack, from its compose files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import HarnessError

HELP = (
    "write a starter slas.yaml from compose files (merged like `compose -f A -f B`): a kill, pause and slow "
    "scenario per dependency, response-time, breaker, no-cascade and metrics objectives, the lint's budgets; "
    "every guessed value says in a comment what it was inferred from"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # --stack as in every other command; the positional files stay as its synonym.
    parser.add_argument(
        "files",
        nargs="*",
        metavar="COMPOSE",
        help="compose files, merged like `compose -f A -f B` (or --stack)",
    )
    parser.add_argument(
        "--stack", nargs="+", metavar="FILE", dest="stack_files", help="compose files, as COMPOSE"
    )
    parser.add_argument("--output", default="slas.yaml", metavar="FILE", help="where to write the catalogue")
    parser.add_argument("--force", action="store_true", help="overwrite --output if it exists")


def run(args: argparse.Namespace) -> int:
    from harness.init.starter import starter_catalogue
    from harness.init.survey import survey

    files = [*args.files, *(args.stack_files or ())]
    if not files:
        raise HarnessError("no compose file: give COMPOSE ... or --stack FILE ...")
    output = Path(args.output)
    if output.exists() and not args.force:
        raise HarnessError(f"{output}: already exists (--force overwrites it)")
    text = starter_catalogue(survey(files))
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HarnessError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    print(
        f"wrote {output}: check every commented guess, then `python -m harness slas --slas {output}`",
        file=sys.stderr,
    )
    return 0
