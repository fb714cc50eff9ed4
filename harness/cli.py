"""`python -m harness <command>`: one module per command, each with HELP, add_arguments and run.

The top-level help says what the tool does (``DESCRIPTION``); every option's default is shown in its help
(``_Help``), so a user never has to read the code to know what an omitted option means.

Only the chosen command's module is imported, so a light command (the lint) does not pay for the
heavy ones (docker, httpx). Every HarnessError becomes one line on stderr and its exit code (2).
The namespace carries the options and the command's name (``COMMAND_DEST``) only: the handler is
looked up from the name, so an option such as judge's ``--run`` cannot shadow the dispatch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from harness.errors import HarnessError
from harness.remote import ALLOW_DEST, guard_engine

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
    "init": ("harness.commands.init", "write a starter slas.yaml from a stack's compose files"),
    "history": ("harness.commands.history", "list the recorded runs, or one objective's figures across them"),
    "compare": (
        "harness.commands.compare",
        "two recorded runs side by side: every figure, its change, and whether the noise explains it",
    ),
}
COMMAND_DEST = "command"
"""The one namespace attribute the CLI owns; no command may declare an option writing it."""


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def _add_command_arguments(sub: argparse.ArgumentParser, module: ModuleType) -> None:
    module.add_arguments(sub)
    for action in sub._actions:
        if action.dest == COMMAND_DEST:
            raise TypeError(
                f"{module.__name__} declares {'/'.join(action.option_strings)}: dest {COMMAND_DEST!r} is the CLI's"
            )


DESCRIPTION = (
    "Chaos and SLA verification for Docker Compose stacks: bring a stack up in phases, inject faults under "
    "load, judge the architecture rules' SLAs from Prometheus (exit 0 pass, 1 an SLA failed, 2 could not "
    "measure), and lint compose files against the same rules before they are deployed."
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"harness {version('chaos-sla-harness')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "harness (not installed)"


class _Help(argparse.HelpFormatter):
    """argparse's help, with every option's default said unless its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else default
        return f"{text} (default: {shown})"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other error (argparse adds the usage to it)."""

    def error(self, message: str) -> NoReturn:
        name = self.prog.removeprefix("python -m ")
        self.exit(2, f"{name}: {message} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest=COMMAND_DEST, required=True, metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (_, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text, formatter_class=_Help)
        if name == chosen:
            module = _command_module(name)
            sub.description = module.HELP
            _add_command_arguments(sub, module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        if hasattr(args, ALLOW_DEST):  # a command that drives the engine: judged before it connects
            guard_engine(args)
        return int(_command_module(args.command).run(args))
    except HarnessError as exc:
        print(f"harness {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`harness slas | head`): say nothing more, and no traceback at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2
