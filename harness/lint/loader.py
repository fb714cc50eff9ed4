"""Reading compose files: parse, check it is a compose file, interpolate, normalize, merge, build."""

from __future__ import annotations

import re
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


# The Compose schemas' pattern for service names (v1's compose_spec.json and the Compose Specification).
SERVICE_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def _services(merged: TrackedDict) -> TrackedDict:
    """The merged services, each named as Compose allows; none at all is an error, not a pass."""
    services = merged.get("services")
    where = key_loc(merged, "services")
    if not services:
        raise InputError(where.file, where.line, "services is empty: there is nothing to lint")
    for name in services:
        if not SERVICE_NAME.fullmatch(str(name)):
            loc = key_loc(services, name)
            shown = "an empty service name" if str(name) == "" else f"service name {name!r}"
            raise InputError(loc.file, loc.line, f"services: {shown} (Compose allows letters, digits, . _ -)")
    return services


def _check_references(model: ComposeModel) -> None:
    """What Compose refuses across services: an undeclared network, a dependency on no service."""
    for service in model.services:
        for net in service.networks:
            if net.value != "default" and net.value not in model.networks:
                raise InputError(
                    net.loc.file,
                    net.loc.line,
                    f"services.{service.name}.networks: network {net.value!r} is not declared under the "
                    "top-level networks",
                )
        for dep in service.depends_on:
            if model.service(dep.service) is None:
                raise InputError(
                    dep.loc.file,
                    dep.loc.line,
                    f"services.{service.name}.depends_on: service {dep.service!r} is not defined",
                )


def merge_compose(paths: Sequence[str], environ: Mapping[str, str]) -> TrackedDict:
    """Merge ``paths`` like ``docker compose -f`` does; variables from ``environ`` over the first file's .env.

    The merged document, for readers of fields the model does not type (labels, volumes, build)."""
    env = {**read_dotenv(Path(paths[0]).parent / ".env"), **environ}
    documents = [read_document(path, env) for path in paths]
    if not any("services" in document for document in documents):
        raise InputError(paths[0], 1, "not a compose file: no top-level 'services'", 1)
    return merge_files(documents)


def load_compose(paths: Sequence[str], environ: Mapping[str, str], config: LintConfig) -> ComposeModel:
    """The merged files (``merge_compose``) as the typed model the rules judge."""
    return build_model(paths, merge_compose(paths, environ), config)


def build_model(paths: Sequence[str], merged: TrackedDict, config: LintConfig) -> ComposeModel:
    services = _services(merged)
    model = ComposeModel(
        files=tuple(paths),
        services=tuple(
            build_service(str(name), service, key_loc(services, name), config)
            for name, service in services.items()
        ),
        networks=build_networks(merged),
    )
    _check_references(model)
    return model
