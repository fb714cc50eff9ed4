"""`python -m harness <command>`: one module per command, each with HELP, add_arguments and run.

Only the chosen command's module is imported, so a light command (the lint) does not pay for the
heavy ones (docker, httpx). Every HarnessError becomes one line on stderr and its exit code (2).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from harness.errors import HarnessError

# command name -> (module implementing it, one-line help for the command list)
COMMANDS = {
    "engine": (
        "harness.commands.engine",
        "find or start a Docker engine, or stop the one the harness started",
    ),
    "build": ("harness.commands.build", "build the stack's images whose inputs changed"),
    "up": ("harness.commands.up", "bring the stack up phase by phase, waiting for health between phases"),
    "down": ("harness.commands.down", "take the stack down, leaving no container, network or volume"),
    "status": ("harness.commands.status", "print every service's health and Prometheus's targets"),
    "lint": ("harness.lint.command", "check compose files against the architecture rules, statically"),
    "clean": (
        "harness.commands.clean",
        "revert every fault the harness left in force (after a crash or SIGKILL)",
    ),
    "run": ("harness.commands.run", "run the chaos scenarios and judge every SLA (exit 0 / 1 / 2)"),
    "judge": ("harness.reports.command", "judge a recorded run (reports/run.json) again from Prometheus"),
    "slas": ("harness.catalogue.command", "check slas.yaml and list what it will judge"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            sub.description = module.HELP
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.run(args))
    except HarnessError as exc:
        print(f"harness {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
