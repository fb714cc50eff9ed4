from __future__ import annotations

import argparse

from harness.commands._stack_options import add_stack_options, open_stack
from harness.images import build_images

HELP = "build the stack's images whose inputs changed (base images pulled or debootstrapped)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")


def run(args: argparse.Namespace) -> int:
    _, project = open_stack(args)
    builds = project.image_builds()
    built = build_images(builds, force=args.force)
    print(f"images: {len(built)} built, {len(builds) - len(built)} up to date")
    return 0
