"""structured_logs (rules 7.2, 7.3) on synthetic logs: JSON lines with the rule's fields pass, a plain-text line
or a missing field fails naming the service; trace ids the load sent that reach every service called pass, an
id lost on the way fails. Missing data is an error, never a pass: no log source (a re-judge), no container,
a silent service, too few traced requests. Also: the engine's log source stops reading at its limit."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from core_synth import T0, context

from harness.analyzers import ANALYZERS
from harness.analyzers.structured_logs import NO_LOGS, StructuredLogsParams
from harness.analyzers.structured_logs import run as structured_logs
from harness.logs import EngineLogSource, LogLimit, LogLine, ServiceLogs
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Finding

SERVICES = ("gateway", "agent-summarizer", "agent-orchestrator")
GRAPH = {
    "gateway": frozenset({"agent-summarizer"}),
    "agent-summarizer": frozenset({"agent-orchestrator"}),
    "agent-orchestrator": frozenset(),
}
IN_WINDOW = T0 + 40  # the fault window is [T0 + 30, T0 + 90)
PARAMS = StructuredLogsParams(min_traces=3)


def line(service: str, at: float = IN_WINDOW, **extra: object) -> LogLine:
    entry = {"timestamp": "2023-11-14T22:13:20Z", "level": "INFO", "service": service, "message": "request"}
    return LogLine(at, json.dumps({**entry, **extra}))


def trace(n: int) -> str:
    return f"{n:032x}"


def traced(ids: range, drop_at: str = "") -> dict[str, list[LogLine]]:
    """Requests gateway -> summarizer -> orchestrator, the callee's line first; ``drop_at`` never sees the ids."""
    logs: dict[str, list[LogLine]] = {s: [] for s in SERVICES}
    for n in ids:
        t = trace(n)
        for service, upstream in (
            ("agent-orchestrator", ""),
            ("agent-summarizer", "agent-orchestrator"),
            ("gateway", "agent-summarizer"),
        ):
            seen = t if service != drop_at else f"{n + 1000:032x}"
            logs[service].append(line(service, trace_id=seen, upstream=upstream))
    return logs


@dataclass
class FakeLogs:
    """A LogSource over fixed lines; ``gone`` services have no container left."""

    lines: Mapping[str, list[LogLine]]
    gone: tuple[str, ...] = ()
    capped: tuple[str, ...] = ()
    asked: list[tuple[str, float, float, LogLimit]] = field(default_factory=list)

    def read(self, service: str, since: float, until: float, limit: LogLimit) -> ServiceLogs:
        self.asked.append((service, since, until, limit))
        if service in self.gone:
            return ServiceLogs(service, (), 0)
        chosen = tuple(x for x in self.lines.get(service, []) if since <= x.at <= until)
        capped = (f"refstack-{service}-1",) if service in self.capped else ()
        return ServiceLogs(service, chosen, 1, capped)


def judge(logs: FakeLogs | None, params: StructuredLogsParams = PARAMS) -> Finding:
    return structured_logs(context(FakeMetricsSource(), graph=GRAPH, logs=logs), params)


def check(finding: Finding, name: str) -> tuple[str, str]:
    found = next(c for c in finding.evidence.checks if c.name == name)
    return found.status, found.detail


def test_json_lines_whose_trace_ids_reach_every_service_called_pass() -> None:
    fake = FakeLogs(traced(range(5)))
    finding = judge(fake)
    assert finding.status == "pass", finding.reason
    assert check(finding, "trace propagation") == (
        "pass",
        "10 calls of 5 traced requests: each id in the logs of the service called",
    )
    window = context(FakeMetricsSource()).window
    assert {a[:3] for a in fake.asked} == {(s, window.start - 35.0, window.end + 5.0) for s in SERVICES}
    assert ANALYZERS["structured_logs"].run is structured_logs


def test_a_plain_text_line_fails_naming_the_service_the_count_and_an_example() -> None:
    logs = traced(range(5))
    logs["agent-summarizer"].append(LogLine(IN_WINDOW, "INFO agent request " + "x" * 200))
    finding = judge(FakeLogs(logs))
    assert finding.status == "fail"
    status, detail = check(finding, "json[agent-summarizer]")
    assert status == "fail"
    assert detail.startswith("1 of 6 lines are not JSON objects, e.g. 'INFO agent request xxx")
    assert detail.endswith("...'") and len(detail) < 200
    assert check(finding, "json[gateway]")[0] == "pass"


def test_a_line_without_a_field_of_the_rule_fails() -> None:
    logs = traced(range(5))
    logs["gateway"].append(LogLine(IN_WINDOW, json.dumps({"level": "INFO", "message": "no time, no name"})))
    logs["gateway"].append(LogLine(IN_WINDOW, json.dumps(["a", "list"])))
    status, detail = check(judge(FakeLogs(logs)), "json[gateway]")
    assert status == "fail"
    assert detail == (
        '1 of 7 lines are not JSON objects, e.g. \'["a", "list"]\'; lines lack service (1), timestamp (1) of 7'
    )


def test_only_lines_in_the_window_are_judged_for_their_format() -> None:
    logs = traced(range(5))
    logs["gateway"].append(LogLine(IN_WINDOW - 20, "a plain start-up line before the window"))
    assert judge(FakeLogs(logs)).status == "pass"


def test_a_callee_line_written_just_after_the_window_still_carries_the_id_of_a_request_logged_at_its_end() -> (
    None
):
    # Seen on the stack: 1 of 1,218 calls "lost" at the baseline's end. The engine stamps each container's lines
    # as it reads them, so the callee's can come a moment after the gateway's: the logs are read `trail` past it.
    logs = traced(range(5))
    end = T0 + 90
    logs["gateway"].append(line("gateway", at=end - 0.001, trace_id=trace(99), upstream="agent-summarizer"))
    logs["agent-summarizer"].append(line("agent-summarizer", at=end + 0.002, trace_id=trace(99)))
    assert check(judge(FakeLogs(logs)), "trace propagation")[0] == "pass"
    assert (
        check(judge(FakeLogs(logs), StructuredLogsParams(min_traces=3, trail=0)), "trace propagation")[0]
        == "fail"
    )
    # a line past the window is not judged for its format
    logs["agent-summarizer"].append(LogLine(end + 1, "a plain line after the window"))
    assert judge(FakeLogs(logs)).status == "pass"


def test_a_trace_id_lost_on_the_way_fails_naming_the_call() -> None:
    finding = judge(FakeLogs(traced(range(5), drop_at="agent-orchestrator")))
    assert finding.status == "fail"
    status, detail = check(finding, "trace propagation")
    assert status == "fail"
    assert detail.startswith(
        "5 of 10 calls lost the trace id (agent-summarizer -> agent-orchestrator: 5), e.g. "
    )
    assert f"{trace(0)} passed by agent-summarizer to agent-orchestrator" in detail


def test_calls_into_a_capped_or_unjudged_service_are_not_judged_and_said() -> None:
    logs = traced(range(5), drop_at="agent-orchestrator")
    finding = judge(FakeLogs(logs, capped=("agent-orchestrator",)))
    status, detail = check(finding, "trace propagation")
    assert status == "pass"
    assert detail.endswith("; 5 calls into agent-orchestrator not judged")
    assert (
        "cap reached: only the first lines of refstack-agent-orchestrator-1"
        in check(finding, "json[agent-orchestrator]")[1]
    )
    unjudged = judge(FakeLogs(logs), StructuredLogsParams(min_traces=3, exclude=("agent-orchestrator",)))
    assert unjudged.status == "pass", unjudged.reason


def test_an_upstream_that_is_no_service_of_the_stack_is_no_call() -> None:
    logs = traced(range(5))
    logs["gateway"].append(line("gateway", trace_id=trace(9), upstream="-"))  # HAProxy answered itself
    status, detail = check(judge(FakeLogs(logs)), "trace propagation")
    assert (status, detail) == (
        "pass",
        "10 calls of 6 traced requests: each id in the logs of the service called",
    )


def test_ids_the_load_did_not_send_are_not_counted() -> None:
    logs = traced(range(2))
    logs["gateway"].append(line("gateway", trace_id="0b6c7a56-8b0e-4a8e-9d0a-5a7f3a1e2c44", upstream="x"))
    status, detail = check(judge(FakeLogs(logs)), "trace propagation")
    assert status == "error"
    assert detail.startswith("2 trace ids of the load's ([0-9a-f]{32}) in gateway's logs, at least 3 needed")


def test_no_call_into_a_judged_service_is_an_error() -> None:
    logs = {s: [line(s, trace_id=trace(n)) for n in range(5)] for s in SERVICES}
    status, detail = check(judge(FakeLogs(logs)), "trace propagation")
    assert (status, detail) == ("error", "no request of the 5 traced passed into a judged service")


def test_no_log_source_is_an_error_saying_why() -> None:
    finding = judge(None)
    assert (finding.status, finding.reason) == ("error", NO_LOGS)


def test_a_service_without_container_or_without_lines_is_an_error() -> None:
    logs = traced(range(5))
    gone = judge(FakeLogs(logs, gone=("agent-orchestrator",)))
    assert gone.status == "error"
    assert check(gone, "json[agent-orchestrator]") == (
        "error",
        "no container of agent-orchestrator to read: its logs are gone",
    )
    logs["agent-orchestrator"] = []
    silent = judge(FakeLogs(logs))
    assert check(silent, "json[agent-orchestrator]") == (
        "error",
        "wrote nothing in the window: nothing to judge",
    )
    allowed = judge(FakeLogs(logs), StructuredLogsParams(min_traces=3, silent=("agent-orchestrator",)))
    assert check(allowed, "json[agent-orchestrator]")[0] == "skipped"


def test_the_services_default_to_the_stack_but_the_excluded_ones() -> None:
    fake = FakeLogs(traced(range(5)))
    judge(fake, StructuredLogsParams(min_traces=3, exclude=("agent-orchestrator",)))
    assert {a[0] for a in fake.asked} == {"gateway", "agent-summarizer"}
    chosen = FakeLogs(traced(range(5)))
    judge(chosen, StructuredLogsParams(min_traces=3, services=("gateway",), max_lines=7, max_bytes=9))
    assert [(a[0], a[3]) for a in chosen.asked] == [("gateway", LogLimit(7, 9))]


def test_parameters_that_cannot_judge_are_refused() -> None:
    for bad in (
        {"min_traces": 0},
        {"fields": ()},
        {"trace_pattern": "("},
        {"max_bytes": 0},
        {"lead": -1.0},
        {"trail": -1.0},
    ):
        with pytest.raises(ValueError):
            StructuredLogsParams(**bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the engine's log source


def stamp(at: float) -> bytes:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + b"123Z"


@dataclass
class FakeContainer:
    name: str
    chunks: list[bytes]
    options: dict[str, Any] = field(default_factory=dict)
    pulled: int = 0

    def logs(self, **options: Any) -> Iterator[bytes]:
        self.options = options
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk


@dataclass
class FakeContainers:
    found: list[FakeContainer]
    filters: list[Mapping[str, Any]] = field(default_factory=list)

    def list(
        self, all: bool, filters: Mapping[str, Any], ignore_removed: bool = False
    ) -> list[FakeContainer]:
        self.filters.append(filters)
        return self.found


@dataclass
class FakeClient:
    containers: FakeContainers


def test_the_engine_source_reads_every_replica_of_the_service_in_the_window() -> None:
    # chunks split lines anywhere: the source joins them back
    first = FakeContainer(
        "p-agent-1", [stamp(T0 + 2) + b' {"a": 1}\n' + stamp(T0 + 3)[:10], stamp(T0 + 3)[10:] + b" b\n"]
    )
    second = FakeContainer("p-agent-2", [stamp(T0 + 1) + b" c\n"])
    containers = FakeContainers([first, second])
    logs = EngineLogSource(FakeClient(containers), "p").read("agent", T0, T0 + 5, LogLimit(10, 1000))
    assert [(round(x.at - T0, 3), x.text) for x in logs.lines] == [(1.0, "c"), (2.0, '{"a": 1}'), (3.0, "b")]
    assert (logs.containers, logs.capped) == (2, ())
    assert containers.filters == [
        {"label": ["com.docker.compose.project=p", "com.docker.compose.service=agent"]}
    ]
    assert first.options == {
        "stdout": True,
        "stderr": True,
        "timestamps": True,
        "stream": True,
        "follow": False,
        "since": T0,
        "until": T0 + 5,
    }


@pytest.mark.parametrize(("limit", "kept"), [(LogLimit(3, 10_000), 3), (LogLimit(100, 3 * 41), 3)])
def test_the_engine_source_stops_reading_at_its_limit_and_says_so(limit: LogLimit, kept: int) -> None:
    chatty = FakeContainer("p-agent-1", [stamp(T0) + b" " + b"x" * 9 + b"\n" for _ in range(1000)])
    logs = EngineLogSource(FakeClient(FakeContainers([chatty])), "p").read("agent", T0, T0 + 5, limit)
    assert len(logs.lines) == kept
    assert logs.capped == ("p-agent-1",)
    assert chatty.pulled == kept + 1  # the rest of the stream was never pulled


def test_no_container_reads_as_none() -> None:
    logs = EngineLogSource(FakeClient(FakeContainers([])), "p").read("agent", T0, T0 + 5, LogLimit(10, 10))
    assert (logs.lines, logs.containers) == ((), 0)
