"""slas.yaml's ``load:`` section: what drives the steady load every scenario runs under.

Either a locustfile of the stack's own (``locustfile:``, relative to slas.yaml), or the generic one shipped
in the package (load/generic_locustfile.py) driving the requests listed here::

    load:
      requests:
        - {name: order, method: POST, path: /api/orders, body: {item: 1}, weight: 4}
        - {name: health, path: /health}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalogue.reader import Fields, item_line, show
from harness.errors import InputError
from harness.packaged import generic_locustfile

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODYLESS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """One request of the generic locustfile; ``name`` is Locust's, so the series' ``name`` label."""

    name: str
    path: str
    method: str = "GET"
    body: Any = None
    """Sent as JSON; None: no body."""
    weight: int = 1
    """How often it is picked, relative to the others."""


@dataclass(frozen=True, slots=True)
class LoadSpec:
    locustfile: Path | None = None
    """None: the generic locustfile, driving ``requests``."""
    requests: tuple[LoadRequest, ...] = ()

    @property
    def configured(self) -> bool:
        return self.locustfile is not None or bool(self.requests)

    def locustfile_to_run(self) -> Path:
        return self.locustfile or generic_locustfile()

    def requests_json(self) -> str:
        """The requests as the generic locustfile reads them (LOAD_REQUESTS); empty with a locustfile."""
        if self.locustfile is not None:
            return ""
        return json.dumps(
            [
                {"name": r.name, "method": r.method, "path": r.path, "body": r.body, "weight": r.weight}
                for r in self.requests
            ]
        )


def read_load(node: Fields, catalogue_path: str) -> LoadSpec:
    locustfile = node.string("locustfile", None)
    items = node.sequence("requests", [])
    requests = tuple(
        _request(
            Fields(item, f"{node.where}.requests[{index}]", node.path, item_line(items, index, node.line))
        )
        for index, item in enumerate(items)
    )
    if locustfile is not None and requests:
        raise node.error("requests", "the generic locustfile's requests: not with a locustfile of your own")
    if locustfile is None and not requests:
        raise node.error(None, "name a locustfile, or list the requests the generic locustfile drives")
    names = [r.name for r in requests]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise node.error(
            "requests", f"two requests named {show(duplicate)}: Locust's statistics would merge them"
        )
    node.finish()
    path = Path(catalogue_path).parent / locustfile if locustfile is not None else None
    if path is not None and not path.is_file():
        raise node.error("locustfile", f"no such file: {path}")
    return LoadSpec(path, requests)


def _request(node: Fields) -> LoadRequest:
    name = node.string("name")
    path = node.string("path")
    if not path.startswith("/"):
        raise node.error("path", f"a path on the gateway starts with '/', got {show(path)}")
    method = node.string("method", "GET").upper()
    if method not in METHODS:
        raise node.error("method", f"expected one of {', '.join(METHODS)}, got {show(method)}")
    body = node.raw("body", None)
    if body is not None and method in BODYLESS:
        raise node.error("body", f"a {method} request sends no body")
    try:
        body = json.loads(json.dumps(body))  # plain lists and dicts, as the locustfile will read them
    except (TypeError, ValueError) as exc:
        raise node.error("body", f"not JSON ({exc})") from None
    weight = node.integer("weight", 1, minimum=1)
    node.finish()
    return LoadRequest(name, path, method, body, weight)


def require_load(catalogue_path: str, load: LoadSpec) -> None:
    """A run needs a load; the catalogue alone may do without (``harness slas``, the lint, the tests')."""
    if not load.configured:
        raise InputError(
            catalogue_path,
            None,
            "load: missing: name your load.locustfile, or list the load.requests the generic locustfile drives",
        )
