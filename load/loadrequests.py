"""The generic locustfile's requests, read from the JSON the harness writes from slas.yaml's
``load.requests`` (harness/catalogue/load_spec.py, which validates them with file:line errors first).

Free of Locust and gevent so the unit tests can import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KEYS = {"name", "method", "path", "body", "weight"}


@dataclass(frozen=True, slots=True)
class LoadRequest:
    name: str
    method: str
    path: str
    body: Any
    weight: int


def read_requests(text: str) -> list[LoadRequest]:
    """The requests of LOAD_REQUESTS; a ValueError says what is wrong (a standalone run may set anything)."""
    if not text.strip():
        raise ValueError("not set: a JSON list of {name, method, path, body, weight}")
    items = json.loads(text)  # json.JSONDecodeError is a ValueError
    if not isinstance(items, list) or not items:
        raise ValueError("expected a non-empty JSON list")
    return [_request(index, item) for index, item in enumerate(items)]


def _request(index: int, item: Any) -> LoadRequest:
    if not isinstance(item, dict) or not {"name", "path"} <= set(item) or not set(item) <= KEYS:
        raise ValueError(
            f"[{index}]: expected an object with name and path, and only {', '.join(sorted(KEYS))}"
        )
    weight = item.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise ValueError(f"[{index}].weight: expected a whole number >= 1, got {weight!r}")
    if not str(item["path"]).startswith("/"):
        raise ValueError(f"[{index}].path: expected a path starting with '/', got {item['path']!r}")
    return LoadRequest(
        str(item["name"]), str(item.get("method") or "GET").upper(), item["path"], item.get("body"), weight
    )
