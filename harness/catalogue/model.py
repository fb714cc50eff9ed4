"""The SLA catalogue (slas.yaml) as frozen dataclasses. The schema is described in README.md, "slas.yaml"."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from harness.catalogue.abort import AbortCondition
from harness.catalogue.load_spec import LoadSpec
from harness.history.location import DEFAULT_HISTORY
from harness.history.spec import RegressionSpec
from harness.labels import DEFAULT_LABELS, StackLabels
from harness.verdict import Severity
from harness.windows import Seconds, WindowName

CRASH_EXIT_CODE = 137
"""The only exit code crash_loop can cause: 128 + SIGKILL (harness/faults/lifecycle.py says why)."""
FaultKind = Literal[
    "container_kill",
    "container_stop",
    "container_pause",
    "container_restart",
    "crash_loop",
    "sigterm",
    "idle",
    "proxy_down",
    "proxy_latency",
    "proxy_timeout",
    "proxy_reset_peer",
    "proxy_bandwidth",
    "ollama_load",
    "http_burst",
    "memory_pressure",
    "cpu_pressure",
    "partition",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
# The numeric attributes each fault kind takes (Toxiproxy's toxic attributes, plus toxicity 0..1).
FAULT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "container_kill": (),
    "container_stop": ("timeout",),
    "container_pause": (),
    "container_restart": ("timeout",),
    # lifecycle (harness/faults/lifecycle.py); idle pauses the load for the fault window (the runner's)
    "crash_loop": ("interval", "exit_code"),
    "sigterm": (),
    "idle": (),
    "proxy_down": (),
    "proxy_latency": ("latency", "jitter", "toxicity"),
    "proxy_timeout": ("timeout", "toxicity"),
    "proxy_reset_peer": ("timeout", "toxicity"),
    "proxy_bandwidth": ("rate", "toxicity"),
    # bursts (harness/faults/burst.py): also `models` (names) and, for http_burst, `path` and
    # `proof_counter` (a metric name); http_burst's `distinct` repeats its bodies (a cache can hit), its
    # `proof_port` is where the proof is read (a gateway's metrics are on a port of their own)
    "ollama_load": ("concurrency", "requests", "num_predict", "port", "duration"),
    "http_burst": ("concurrency", "requests", "port", "duration", "distinct", "proof_port"),
    # pressure inside the target's cgroup (harness/faults/stress.py): `bytes` (a size) or
    # `fraction_of_limit`, `ramp` (a duration); `workers`, `load` (percent)
    "memory_pressure": ("bytes", "fraction_of_limit", "ramp"),
    "cpu_pressure": ("workers", "load"),
    # the target cut from a network (harness/faults/partition.py): `network` or `keep_network` (names),
    # `mode` (disconnect or drop)
    "partition": (),
}
BURST_KINDS: tuple[FaultKind, ...] = ("ollama_load", "http_burst")
PARTITION: FaultKind = "partition"
PartitionMode = Literal["disconnect", "drop"]
PARTITION_MODES: tuple[PartitionMode, ...] = get_args(PartitionMode)
BURST_LIMITS: dict[str, float] = {
    "concurrency": 64,
    "requests": 2000,
    "num_predict": 1024,
    "duration": 600,
    "port": 65535,
    "proof_port": 65535,
}
"""Upper bounds of a burst: it is bounded in count and time, whatever slas.yaml asks."""
PRESSURE_KINDS: tuple[FaultKind, ...] = ("memory_pressure", "cpu_pressure")
PRESSURE_LIMITS: dict[str, tuple[float, float]] = {
    "bytes": (1024**2, 64 * 1024**3),
    "fraction_of_limit": (0.01, 4.0),
    "ramp": (0.0, 600.0),
    "workers": (1, 64),
    "load": (1.0, 100.0),
}
"""The range of each pressure attribute: at least what can be told from noise, at most a bounded fault."""
Stream = Literal["downstream", "upstream"]
STREAMS: tuple[Stream, ...] = ("downstream", "upstream")


@dataclass(frozen=True, slots=True)
class PrometheusSettings:
    url: str = "http://127.0.0.1:10400"
    scrape_interval: Seconds = 1.0
    """Used only when Prometheus' targets do not report their scrape interval."""
    query_timeout: Seconds = 10.0


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the harness reaches the stack from the host (loopback only)."""

    gateway: str = "http://127.0.0.1:8080"
    """The load's target: the stack's single entry point."""
    faultproxy: str = "http://127.0.0.1:8474"
    """The Toxiproxy(-compatible) API that proxy faults drive."""
    pushgateway: str = ""
    """Where the load pushes its client-side metrics for Prometheus; empty: not pushed."""


@dataclass(frozen=True, slots=True)
class LoadBounds:
    """Upper bounds no scenario's load may exceed (load is bounded in users, rate and time)."""

    max_users: int = 200
    max_rate: float = 500.0
    max_duration: Seconds = 1800.0


@dataclass(frozen=True, slots=True)
class LoadLevel:
    users: int = 10
    spawn_rate: float = 10.0
    rate: float = 20.0
    """Target requests per second over all users."""
    workers: int = 1
    """Locust worker processes sharing the users and the rate (1: a single process; more: a master and
    that many workers on this host, the metrics merged by the master: harness/load/workers.py)."""


@dataclass(frozen=True, slots=True)
class WindowDurations:
    steady: Seconds = 30.0
    fault: Seconds = 60.0
    recovery: Seconds = 45.0

    @property
    def total(self) -> float:
        return self.steady + self.fault + self.recovery


@dataclass(frozen=True, slots=True)
class Defaults:
    prometheus: PrometheusSettings = PrometheusSettings()
    endpoints: Endpoints = Endpoints()
    load_bounds: LoadBounds = LoadBounds()
    load: LoadLevel = LoadLevel()
    windows: WindowDurations = WindowDurations()
    min_scrapes_per_window: int = 4
    service_label: str = "job"
    """The Prometheus label naming a service; analyzers group by it unless told otherwise."""
    history: str = DEFAULT_HISTORY
    """The history file every run is appended to (harness.history), as a path."""
    driver: Literal["compose", "swarm"] = "compose"
    """How the stack is brought up: compose, or swarm (harness.driver); ``--driver`` overrides it."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    kind: FaultKind
    target: str
    """The service (container faults) or fault-proxy proxy (proxy faults) the fault hits."""
    attributes: tuple[tuple[str, float], ...] = ()
    stream: Stream = "downstream"
    models: tuple[str, ...] = ()
    """Bursts: the model names the requests ask for, in turn."""
    path: str | None = None
    """http_burst: the path requests are POSTed to (default /api/task)."""
    proof_counter: str | None = None
    """http_burst: a counter of the requests the target received, proving the burst instead of the agents'
    gauges (a gateway's: ``haproxy_frontend_http_requests_total``)."""
    network: str | None = None
    """partition: the network the target is cut from."""
    keep_network: str | None = None
    """partition: the one network the target keeps; it is cut from all its others."""
    mode: PartitionMode = "disconnect"
    """partition: ``disconnect`` from the network (its name no longer resolves), or ``drop`` every packet
    on the target's interface there (the name still resolves; nothing answers, as across a cut link)."""

    def attribute(self, name: str, default: float | None = None) -> float | None:
        return dict(self.attributes).get(name, default)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    windows: WindowDurations
    load: LoadLevel
    fault: FaultSpec | None
    faulted_service: str | None
    """The service whose failure the scenario simulates (for cascade checks); the fault target by default."""
    abort: tuple[AbortCondition, ...] = ()
    """Safeguards polled during the fault and recovery: one holding ends the scenario at once, aborted."""
    nightly: bool = False
    """Too long for every run (an idle window of minutes): run only when asked for (``harness run --nightly``)."""
    drivers: tuple[str, ...] = ()
    """The stack drivers it runs under (empty: every one); under another it is left out, said so."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """What an objective measures: a registered analyzer (``promql`` for the ``promql:`` form) and its
    typed parameters (the analyzer's own frozen dataclass)."""

    analyzer: str
    params: object
    threshold: str


CriterionComparator = Literal["<", "<=", ">", ">=", "==", "!="]
CRITERION_COMPARATORS: tuple[CriterionComparator, ...] = get_args(CriterionComparator)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One Keptn-style criterion on an objective's measured value, e.g. ``<= 0.5``."""

    comparator: CriterionComparator
    bound: float

    def text(self) -> str:
        return f"{self.comparator} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Grading:
    """How an objective's verdicts count towards the total score (``harness.scoring``): its weight, and
    the pass and warning criteria that grade a passing verdict's measured value (every criterion of a
    list must hold), known to within ``rounding``."""

    weight: float = 1.0
    pass_criteria: tuple[Criterion, ...] = ()
    warning_criteria: tuple[Criterion, ...] = ()
    rounding: float = 0.0


@dataclass(frozen=True, slots=True)
class TotalScore:
    """slas.yaml ``total_score``: the run's score (a fraction) needed to pass, or to be a warning.
    ``gate``: it was given, so a failed score decides the exit code; else Keptn's defaults, reported only."""

    pass_: float = 0.9
    warning: float = 0.75
    gate: bool = False


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    rule: str
    description: str
    scenarios: tuple[str, ...]
    window: WindowName
    measurement: Measurement
    severity: Severity
    line: int | None = None
    grading: Grading = Grading()
    regression: RegressionSpec | None = None
    """Judged against its own earlier values too (harness.history.regression)."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    path: str
    version: int
    defaults: Defaults
    scenarios: tuple[Scenario, ...]
    objectives: tuple[Objective, ...]
    total_score: TotalScore = TotalScore()
    load: LoadSpec = field(default_factory=LoadSpec)
    labels: StackLabels = DEFAULT_LABELS
    suites: tuple[Path, ...] = ()
    """Folders of scenario suites of the stack's own, run after the packaged ones (relative to slas.yaml)."""

    def scenario(self, name: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(name)

    def objectives_for(self, scenario: str) -> tuple[Objective, ...]:
        return tuple(o for o in self.objectives if scenario in o.scenarios)
