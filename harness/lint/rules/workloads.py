"""Rules 12.1 (Ollama's limits) and 12.3 (Claude-like client instances)."""

from __future__ import annotations

from collections.abc import Iterator

from harness.lint.config import LintConfig
from harness.lint.findings import Finding
from harness.lint.model import ComposeModel, Service
from harness.lint.rules.base import error, matches, warning
from harness.lint.units import format_bytes


def _env_bound(service: Service, name: str, limit: float, why: str) -> Iterator[Finding]:
    located = service.environment.get(name)
    if located is None:
        yield error("12.1", service, service.loc, f"{name} not set ({why}; rule: <= {limit:g})")
        return
    if located.value is None:
        yield warning(
            "12.1", service, located.loc, f"{name} comes from the host environment: cannot judge <= {limit:g}"
        )
        return
    try:
        value = float(located.value)
    except ValueError:
        yield error("12.1", service, located.loc, f"{name}={located.value!r} is not a number")
        return
    if value > limit:
        yield error("12.1", service, located.loc, f"{name}={located.value} (rule: <= {limit:g})")


def check_ollama(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    spec = config.ollama
    for service in model.services:
        if not matches(service, spec.match):
            continue
        yield from _env_bound(
            service, "OLLAMA_NUM_PARALLEL", spec.num_parallel_max, "Ollama then picks up to 4"
        )
        yield from _env_bound(
            service, "OLLAMA_MAX_LOADED_MODELS", spec.max_loaded_models_max, "Ollama then keeps up to 3"
        )
        cpu = service.cpu_limit
        if cpu is None:
            yield error("12.1", service, service.loc, f"no CPU limit (rule: <= {spec.cpu_limit:g} CPUs)")
        elif cpu.value > spec.cpu_limit:
            yield error("12.1", service, cpu.loc, f"CPU limit {cpu.value:g} (rule: <= {spec.cpu_limit:g})")
        if "OLLAMA_CPU_LIMIT" in service.environment:
            yield from _env_bound(service, "OLLAMA_CPU_LIMIT", spec.cpu_limit, "")


def check_claude(model: ComposeModel, config: LintConfig) -> Iterator[Finding]:
    spec = config.claude
    instances = [s for s in model.services if matches(s, spec.match)]
    budget = format_bytes(spec.instance_memory_max)
    for service in instances:
        if service.mem_limit is None:
            yield error("12.3", service, service.loc, f"no memory limit (rule: <= {budget} per instance)")
        elif service.mem_limit.value > spec.instance_memory_max:
            yield error(
                "12.3",
                service,
                service.mem_limit.loc,
                f"memory limit {format_bytes(service.mem_limit.value)} per instance (rule: <= {budget})",
            )
    count = sum(s.replicas for s in instances)
    if count > 1:
        first = instances[0]
        yield warning(
            "12.3",
            first,
            first.loc,
            f"{count} instances ({', '.join(s.name for s in instances)}): a single shared instance is preferred, "
            "else pool connections",
        )
