"""What `history` and `compare` share: where the history is, and plain aligned tables."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence

from harness.catalogue.model import Catalogue
from harness.catalogue.parse import load_catalogue
from harness.errors import InputError
from harness.history.location import history_path


def add_history_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slas", default="slas.yaml", help="the SLA catalogue (default: slas.yaml)")
    parser.add_argument(
        "--history",
        help="the history file, a path or sqlite:/// URL (default: slas.yaml defaults.history)",
    )


def history_file(args: argparse.Namespace, catalogue: Catalogue | None = None) -> str:
    """``--history`` if given, else the catalogue's (read from ``--slas`` when not given)."""
    if args.history is None:
        return (catalogue or load_catalogue(args.slas)).defaults.history
    path = history_path(args.history)
    if path is None:
        raise InputError("--history", None, f"expected a file path or a sqlite:/// URL, got {args.history!r}")
    return path


def when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def number(value: float, unit: str = "") -> str:
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}{' ' + unit if unit else ''}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, the last one left ragged."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
        for r in [header, *rows]
    )
