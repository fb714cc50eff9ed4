"""Reading compose files: parse, check it is a compose file, interpolate, normalize, merge, build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import InputError
from harness.lint.config import LintConfig
from harness.lint.interpolate import interpolate_tree, read_dotenv
from harness.lint.merge import TrackedDict, copy_dict, key_loc, merge_files, normalize_service
from harness.lint.model import ComposeModel, build_networks, build_service
from harness.yamlsource import LinedDict, load_file

TOP_LEVEL = frozenset({"version", "services", "networks", "volumes", "secrets", "configs", "name", "include"})


def read_document(path: str, env: Mapping[str, str]) -> TrackedDict:
    """One compose file, interpolated, with list-or-mapping service fields in mapping form."""
    document = load_file(path)
    if not isinstance(document, LinedDict):
        kind = "empty" if document is None else f"a {type(document).__name__.removeprefix('Lined').lower()}"
        raise InputError(
            path, getattr(document, "line", 1) or 1, f"not a compose file: the document is {kind}", 1
        )
    for key in document:
        if key not in TOP_LEVEL and not key.startswith("x-"):
            raise InputError(
                path, document.line_of(key), f"not a compose file: unknown top-level key {key!r}"
            )
    services = document.get("services")
    if "services" in document and services is not None and not isinstance(services, LinedDict):
        raise InputError(path, document.line_of("services"), "not a compose file: services must be a mapping")
    interpolate_tree(document, env)
    result = copy_dict(document)
    if isinstance(services, LinedDict):
        normalized = copy_dict(services)
        for name, service in services.items():
            if isinstance(service, LinedDict):
                normalized[name] = normalize_service(service)
        result["services"] = normalized
    return result


def load_compose(paths: Sequence[str], environ: Mapping[str, str], config: LintConfig) -> ComposeModel:
    """Merge ``paths`` like ``docker compose -f`` does; variables from ``environ`` over the first file's .env."""
    env = {**read_dotenv(Path(paths[0]).parent / ".env"), **environ}
    documents = [read_document(path, env) for path in paths]
    if not any("services" in document for document in documents):
        raise InputError(paths[0], 1, "not a compose file: no top-level 'services'", 1)
    merged = merge_files(documents)
    services = merged.get("services") or {}
    return ComposeModel(
        files=tuple(paths),
        services=tuple(
            build_service(str(name), service, key_loc(services, name), config)
            for name, service in services.items()
        ),
        networks=build_networks(merged),
    )
