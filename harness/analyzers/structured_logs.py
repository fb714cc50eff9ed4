"""Rules 7.2 and 7.3, structured logs and trace propagation, judged from the lines the services wrote.

Read from the engine's container logs (``context.logs``, harness/logs.py) over the window, every replica of
each judged service, at most ``max_lines`` / ``max_bytes`` per container (a cap reached is said, and what
was read is judged):

1. per service, every line it wrote in the window is a JSON object with the fields rule 7.2 names
   (``fields``: timestamp, level, service, message). A service that wrote nothing is ``error`` (nothing to
   judge), unless it is listed in ``silent``.
2. the trace ids the load sent (the entry service's lines whose ``trace_field`` matches ``trace_pattern``)
   reach every service their request passed: a line carrying such an id and naming in ``upstream_field``
   the service that answered it (the gateway's backend, an agent's call to a peer or to Ollama) needs a line
   with the same id in that service's logs. Calls into a service that is not judged, or whose logs were not
   read whole (capped, or no container), are not judged and are counted; a name that is no service of the
   stack is no call (HAProxy's placeholder when it answered itself). Fewer than ``min_traces`` ids at the entry: ``error``.

The callee writes its line before its caller does, so the logs are read from ``lead`` seconds before the
window: a request the entry logged early in the window has its downstream lines too. They are read to
``trail`` seconds after it as well: the engine stamps each container's lines as it reads them, so a callee's
line can carry a time a moment after its caller's, and a request the entry logged at the window's very end
would otherwise lose its id.

No log source (a re-judge from run.json after the containers are gone) or no container left for a
service: ``error``, never ``pass``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, conclude
from harness.logs import LogLimit, ServiceLogs
from harness.verdict import Check, Evidence, Figure, Finding, Status
from harness.windows import Seconds, Window

NO_LOGS = (
    "no container logs to read: this judgement has no engine to read them from (a re-judge from run.json "
    "after the run); the logs are judged during the run"
)
EXAMPLE_CHARS = 120

Entry = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StructuredLogsParams:
    services: tuple[str, ...] | None = None
    """The services judged; by default every service of the stack but ``exclude``."""
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("timestamp", "level", "service", "message")
    silent: tuple[str, ...] = ()
    """Services that may write nothing in the window (judged when they do write)."""
    entry: str = "gateway"
    trace_field: str = "trace_id"
    upstream_field: str = "upstream"
    trace_pattern: str = "[0-9a-f]{32}"
    """The ids the load sends (32 hex digits); ids the gateway made up for other requests do not match."""
    min_traces: int = 20
    lead: Seconds = 35.0
    trail: Seconds = 5.0
    max_lines: int = 50_000
    """Per container."""
    max_bytes: int = 16 * 1024 * 1024
    """Per container."""

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("fields: name at least one field every line must have")
        if self.min_traces < 1:
            raise ValueError("min_traces: must be at least 1")
        if self.lead < 0:
            raise ValueError("lead: must not be negative")
        if self.trail < 0:
            raise ValueError("trail: must not be negative")
        if self.max_lines < 1 or self.max_bytes < 1:
            raise ValueError("max_lines: max_lines and max_bytes must be at least 1")
        try:
            re.compile(self.trace_pattern)
        except re.error as exc:
            raise ValueError(f"trace_pattern: not a regular expression: {exc}") from exc


def describe(p: StructuredLogsParams) -> str:
    return (
        f"every line a JSON object with {', '.join(p.fields)}; every trace id the load sent through "
        f"{p.entry} seen by each service its request passed (at least {p.min_traces} ids)"
    )


@dataclass(frozen=True, slots=True)
class _Read:
    """One service's lines, each parsed: the JSON object, or None for a line that is not one."""

    logs: ServiceLogs
    entries: tuple[tuple[float, str, Entry | None], ...]

    @property
    def whole(self) -> bool:
        """Every line it wrote was read: a container to read, and no cap reached."""
        return self.logs.containers > 0 and not self.logs.capped

    def in_window(self, window: Window) -> list[tuple[float, str, Entry | None]]:
        return [e for e in self.entries if window.start <= e[0] <= window.end]


def run(context: AnalysisContext, params: StructuredLogsParams) -> Finding:
    threshold = describe(params)
    evidence = Evidence(window=context.window, phases=context.timeline.phases)
    if context.logs is None:
        return Finding("error", None, threshold, NO_LOGS, evidence)
    services = params.services or tuple(sorted(set(context.graph) - set(params.exclude)))
    if not services:
        reason = "no service to judge: name them in `services`, or judge a stack whose services are known"
        return Finding("error", None, threshold, reason, evidence)
    window = context.window
    limit = LogLimit(params.max_lines, params.max_bytes)
    since, until = window.start - params.lead, window.end + params.trail
    read = {s: _parse(context.logs.read(s, since, until, limit)) for s in services}
    checks = [_format(r, window, params) for r in read.values()]
    checks.append(_propagation(read, context.graph.keys(), window, params))
    figures = [Figure(f"lines[{s}]", len(r.in_window(window))) for s, r in read.items()]
    return conclude(checks, threshold, replace(evidence, figures=tuple(figures)), "no service")


def _parse(logs: ServiceLogs) -> _Read:
    return _Read(logs, tuple((line.at, line.text, _object(line.text)) for line in logs.lines))


def _object(text: str) -> Entry | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _format(read: _Read, window: Window, params: StructuredLogsParams) -> Check:
    service = read.logs.service
    name = f"json[{service}]"
    if read.logs.containers == 0:
        return Check(name, "error", f"no container of {service} to read: its logs are gone")
    lines = read.in_window(window)
    if not lines:
        if service in params.silent:
            return Check(name, "skipped", "wrote nothing in the window (allowed: listed in `silent`)")
        return Check(name, "error", "wrote nothing in the window: nothing to judge")
    not_json = [text for _, text, entry in lines if entry is None]
    lacking = Counter(
        f for _, _, entry in lines if entry is not None for f in params.fields if f not in entry
    )
    faults = []
    if not_json:
        faults.append(
            f"{len(not_json)} of {len(lines)} lines are not JSON objects, e.g. {_example(not_json[0])}"
        )
    if lacking:
        faults.append(
            "lines lack " + ", ".join(f"{f} ({n})" for f, n in sorted(lacking.items())) + f" of {len(lines)}"
        )
    status: Status = "fail" if faults else "pass"
    detail = "; ".join(faults) or f"{len(lines)} lines, each a JSON object with {', '.join(params.fields)}"
    return Check(name, status, detail + _capped(read.logs))


def _example(text: str) -> str:
    return repr(text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "...")


def _capped(logs: ServiceLogs) -> str:
    if not logs.capped:
        return ""
    return f" (cap reached: only the first lines of {', '.join(logs.capped)} were read)"


def _propagation(
    read: Mapping[str, _Read], known: Collection[str], window: Window, params: StructuredLogsParams
) -> Check:
    name = "trace propagation"
    entry = read.get(params.entry)
    if entry is None:
        return Check(name, "error", f"the entry service {params.entry} is not among the judged services")
    pattern = re.compile(params.trace_pattern)
    sent = {
        t
        for _, _, e in entry.in_window(window)
        if isinstance(t := (e or {}).get(params.trace_field), str) and pattern.fullmatch(t)
    }
    if len(sent) < params.min_traces:
        return Check(
            name,
            "error",
            f"{len(sent)} trace ids of the load's ({params.trace_pattern}) in {params.entry}'s logs, "
            f"at least {params.min_traces} needed",
        )
    seen = {s: {(e or {}).get(params.trace_field) for _, _, e in r.entries} for s, r in read.items()}
    hops = {
        (caller, upstream, trace)
        for caller, r in read.items()
        for _, _, e in r.entries
        if e is not None
        and (trace := e.get(params.trace_field)) in sent
        and isinstance(upstream := e.get(params.upstream_field), str)
        and upstream
    }
    judged = [h for h in hops if h[1] in read and read[h[1]].whole]
    # A name that is no service of the stack (a proxy's placeholder for "no answer") is no hop.
    unjudged = Counter(h[1] for h in hops if h not in judged and (h[1] in read or h[1] in known))
    note = "".join(f"; {n} calls into {s} not judged" for s, n in sorted(unjudged.items()))
    if not judged:
        return Check(
            name, "error", f"no request of the {len(sent)} traced passed into a judged service{note}"
        )
    lost = sorted(h for h in judged if h[2] not in seen[h[1]])
    if lost:
        per_hop = Counter(f"{caller} -> {upstream}" for caller, upstream, _ in lost)
        caller, upstream, trace = lost[0]
        return Check(
            name,
            "fail",
            f"{len(lost)} of {len(judged)} calls lost the trace id ("
            + ", ".join(f"{hop}: {n}" for hop, n in sorted(per_hop.items()))
            + f"), e.g. {trace} passed by {caller} to {upstream}, absent from {upstream}'s logs{note}",
        )
    return Check(
        name,
        "pass",
        f"{len(judged)} calls of {len(sent)} traced requests: each id in the logs of the service called{note}",
    )


ANALYZER = AnalyzerSpec("structured_logs", StructuredLogsParams, run, describe)
