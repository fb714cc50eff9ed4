"""A service's memory and CPU limits, reservations and replica count, resolved as each Compose CLI does.

Both ``mem_limit``/``mem_reservation``/``cpus`` and ``deploy.resources`` may be written; the CLIs differ:

- v1 (docker-compose 1.29, ``compose/project.py``): when ``deploy.resources.limits`` is present its
  ``memory`` replaces ``mem_limit``, even when it has none (the container then has no memory limit),
  and its ``cpus``, when set, replaces ``cpus``; ``deploy.resources.reservations`` likewise replaces
  ``mem_reservation``. ``scale`` together with ``deploy.replicas`` is refused.
- v2 (compose-go ``loader/validate.go``; docker/compose ``pkg/compose/create.go``, ``setLimits``):
  a set ``mem_limit``/``cpus``/``mem_reservation`` must equal its ``deploy.resources`` counterpart
  whenever ``limits``/``reservations`` is present, else the project is refused; a non-zero
  ``deploy.resources`` value wins. ``scale`` and ``deploy.replicas`` must not differ.

Neither CLI applies ``deploy.resources.reservations.cpus`` to a container (it is a Swarm setting); the
lint still reads it as the declared reservation of rule 1.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness.errors import InputError
from harness.lint.compose_cli import ComposeCli
from harness.lint.fields import Located, as_count, integer, mapping_field, parse_field
from harness.lint.units import format_bytes, parse_bytes, parse_cpus
from harness.yamlsource import LinedDict


@dataclass(frozen=True, slots=True)
class Limits:
    mem_limit: Located[int] | None
    mem_reservation: Located[int] | None
    cpu_limit: Located[float] | None
    cpu_reservation: Located[float] | None
    replicas: int
    discarded: tuple[Located[str], ...]  # values the CLI silently drops, reported by rule 1.1


N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class _Pair(Generic[N]):
    """One resource written both ways: the service key and its ``deploy.resources`` counterpart."""

    key: str  # mem_limit
    deploy_key: str  # deploy.resources.limits.memory
    service: Located[N] | None
    deploy: Located[N] | None
    block: bool  # deploy.resources.limits (or .reservations) is written

    def shown(self, located: Located[N] | None) -> str:
        if located is None:
            return "not set"
        return format_bytes(int(located.value)) if self.key.startswith("mem") else f"{located.value:g}"


def _v1(pair: _Pair[N], discarded: list[Located[str]]) -> Located[N] | None:
    if not pair.block or (pair.deploy is None and pair.key == "cpus"):
        return pair.service  # v1 copies limits.cpus only when it is written
    if pair.deploy is None and pair.service is not None:
        block, field = pair.deploy_key.rsplit(".", 1)
        discarded.append(
            Located(
                f"docker-compose v1 drops {pair.key} {pair.shown(pair.service)}: {block} is written "
                f"without {field}",
                pair.service.loc,
            )
        )
    return pair.deploy


def _v2(pair: _Pair[N], what: str) -> Located[N] | None:
    service, deploy = pair.service, pair.deploy
    # compose-go compares with the zero value when the deploy key is left out of a written block.
    if (
        service is not None
        and service.value
        and pair.block
        and (deploy.value if deploy else 0) != service.value
    ):
        raise InputError(
            service.loc.file,
            service.loc.line,
            f"{what}: {pair.key} {pair.shown(service)} and {pair.deploy_key} {pair.shown(deploy)} "
            "differ: docker compose v2 refuses distinct values",
        )
    return deploy if deploy is not None and deploy.value else service


def _resolve(pair: _Pair[N], what: str, cli: ComposeCli, discarded: list[Located[str]]) -> Located[N] | None:
    return _v1(pair, discarded) if cli == "v1" else _v2(pair, what)


def _replicas(service: LinedDict, deploy: LinedDict, what: str, cli: ComposeCli) -> int:
    replicas = parse_field(deploy, "replicas", f"{what}.deploy", as_count)
    scale = parse_field(service, "scale", what, as_count)
    if replicas is not None and scale is not None and (cli == "v1" or replicas.value != scale.value):
        refused = "both" if cli == "v1" else "distinct values of"
        raise InputError(
            replicas.loc.file,
            replicas.loc.line,
            f"{what}: docker compose {cli} refuses {refused} scale and deploy.replicas",
        )
    chosen = replicas or scale
    return chosen.value if chosen else 1


def _cpu_quota(service: LinedDict, what: str) -> Located[float] | None:
    quota = parse_field(service, "cpu_quota", what, integer)
    period = parse_field(service, "cpu_period", what, integer)
    if quota is None or quota.value <= 0:
        return None
    return Located(quota.value / (period.value if period else 100_000), quota.loc)


def resolve_limits(service: LinedDict, what: str, cli: ComposeCli) -> Limits:
    deploy = mapping_field(service, "deploy", what)
    resources = mapping_field(deploy, "resources", f"{what}.deploy")
    blocks = {
        block: mapping_field(resources, block, f"{what}.deploy.resources")
        for block in ("limits", "reservations")
    }
    discarded: list[Located[str]] = []

    def resolved(key: str, block: str, field: str, parse: Callable[[Any], N]) -> Located[N] | None:
        """``key`` against ``deploy.resources.<block>.<field>``, as the CLI resolves the pair."""
        pair = _Pair(
            key,
            f"deploy.resources.{block}.{field}",
            parse_field(service, key, what, parse),
            parse_field(blocks[block], field, f"{what}.deploy.resources.{block}", parse),
            block in resources,
        )
        return _resolve(pair, what, cli, discarded)

    mem_limit = resolved("mem_limit", "limits", "memory", parse_bytes)
    mem_reservation = resolved("mem_reservation", "reservations", "memory", parse_bytes)
    cpus = resolved("cpus", "limits", "cpus", parse_cpus)
    return Limits(
        mem_limit=mem_limit,
        mem_reservation=mem_reservation,
        cpu_limit=cpus or _cpu_quota(service, what),
        cpu_reservation=parse_field(
            blocks["reservations"], "cpus", f"{what}.deploy.resources.reservations", parse_cpus
        ),
        replicas=_replicas(service, deploy, what, cli),
        discarded=tuple(discarded),
    )
