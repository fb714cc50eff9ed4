from __future__ import annotations

import argparse

from harness.commands._stack_options import add_labels_option, add_stack_options, open_stack
from harness.images import build_images, require_images

HELP = "bring the stack up phase by phase (label sutazai.phase, or slas.yaml's labels.phase), waiting for health between phases"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_options(parser)
    add_labels_option(parser)
    parser.add_argument("--health-timeout", type=float, default=180.0, help="seconds per phase (default 180)")
    parser.add_argument("--no-build", action="store_true", help="do not build images whose inputs changed")


def run(args: argparse.Namespace) -> int:
    stack, project = open_stack(args)
    if not args.no_build:
        build_images(project.image_builds())
    require_images(project.images_not_built())
    timings = stack.up(health_timeout=args.health_timeout)
    total = sum(t.seconds for t in timings)
    print(
        f"stack {project.name}: {len(project.services)} services healthy in {len(timings)} phases, {total:.1f}s"
    )
    return 0
