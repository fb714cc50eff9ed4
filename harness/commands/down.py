from __future__ import annotations

import argparse

from harness.commands._stack_options import add_stack_options, open_stack
from harness.errors import StackError

HELP = "take the stack down, leaving no container, network or volume behind"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    parser.add_argument("--keep-volumes", action="store_true", help="keep named volumes (data survives)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds each container gets to stop")


def run(args: argparse.Namespace) -> int:
    stack, project = open_stack(args)
    left = stack.down(keep_volumes=args.keep_volumes, timeout=args.timeout)
    if left:
        raise StackError(
            f"left behind: containers={left.containers} networks={left.networks} volumes={left.volumes}"
        )
    print(f"stack {project.name}: down, nothing left behind")
    return 0
