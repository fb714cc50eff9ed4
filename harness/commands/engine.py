from __future__ import annotations

import argparse

from harness.engine import ensure_engine, stop_engine_we_started
from harness.remote import add_engine_options

HELP = "make sure a Docker engine answers (installing it on Debian as root), or stop the one we started"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["ensure", "stop"], help="ensure: find or start; stop: stop ours")
    add_engine_options(parser)


def run(args: argparse.Namespace) -> int:
    if args.action == "stop":
        print("stopped the dockerd we started" if stop_engine_we_started() else "no dockerd of ours to stop")
        return 0
    engine = ensure_engine()
    print(f"docker engine {engine.server_version}; compose: {' '.join(engine.compose_command)}")
    return 0
