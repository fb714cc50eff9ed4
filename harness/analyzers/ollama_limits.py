"""Rule 12.1, the model server's limits: at most 2 generations at once, 1 model loaded, a CPU limit, a
bounded queue.

From the model server's own gauges (``<prefix>*`` of the service ``service``) and the container
exporter's CPU series of its container, at every scrape of the window:

1. the parallelism it reports (``num_parallel``) and the generations in flight (``requests_inflight``)
   at most ``max_parallel``;
2. the model limit it reports (``max_loaded_models``) and the models loaded (``loaded_models``) at most
   ``max_loaded_models``;
3. a CPU quota (``container_spec_cpu_quota / container_spec_cpu_period``; 0 = unlimited: fail) of at most
   ``cpu_limit`` cores, and its CPU use (``rate(container_cpu_usage_seconds_total[cpu_rate_range])``)
   within that quota plus ``cpu_tolerance`` (the exporter samples the counter about once a second, so a
   rate over a few seconds jitters around the true use);
4. the queue (``queue_depth``) never longer than the bound it reports (``max_queue``): requests past it
   are refused at once, and the refusals in the window (``rejected_total``) are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analyzers.base import AnalysisContext, AnalyzerSpec, Recorder, conclude
from harness.analyzers.resources import COMPOSE_SERVICE, at_most, peak, range_data, rises, vector
from harness.metrics.port import Sample
from harness.verdict import Check, Figure, Finding
from harness.windows import Seconds, Window

Series = dict[str, tuple[Sample, ...]]


@dataclass(frozen=True, slots=True)
class OllamaLimitsParams:
    service: str = "ollama"
    max_parallel: int = 2
    max_loaded_models: int = 1
    cpu_limit: float = 4.0
    cpu_tolerance: float = 0.1
    cpu_rate_range: Seconds = 20.0
    prefix: str = "ollama_"
    service_label: str | None = None
    container_label: str = COMPOSE_SERVICE

    def __post_init__(self) -> None:
        if self.max_parallel < 1 or self.max_loaded_models < 1:
            raise ValueError("max_parallel: max_parallel and max_loaded_models must be at least 1")
        if self.cpu_limit <= 0 or self.cpu_tolerance < 0:
            raise ValueError("cpu_limit: must be positive (and cpu_tolerance not negative)")
        if self.cpu_rate_range <= 0:
            raise ValueError("cpu_rate_range: must be longer than zero")

    def queries(self, service_label: str) -> dict[str, str]:
        server = f'{self.service_label or service_label}="{self.service}"'
        container = f'{self.container_label}="{self.service}"'
        gauges = ("requests_inflight", "num_parallel", "loaded_models", "max_loaded_models")
        own = {name: f"max({vector(self.prefix + name, server)})" for name in (*gauges, "queue_depth")}
        cpu_range = f"{max(1, round(self.cpu_rate_range * 1000))}ms"
        quota, period = (
            vector(m, container) for m in ("container_spec_cpu_quota", "container_spec_cpu_period")
        )
        return {
            **own,
            "max_queue": f"min({vector(self.prefix + 'max_queue', server)})",
            "rejected": f"sum({vector(self.prefix + 'rejected_total', server)})",
            "cpus": f"min({quota} / {period})",
            "cpu_use": f"max(rate({vector('container_cpu_usage_seconds_total', container)}[{cpu_range}]))",
        }


_FIGURES = {
    "requests_inflight": "peak_inflight",
    "num_parallel": "num_parallel",
    "loaded_models": "peak_loaded_models",
    "queue_depth": "peak_queue_depth",
    "cpu_use": "peak_cpu_use",
    "cpus": "cpu_limit",
}
"""The figure named for the peak of each series."""


def describe(p: OllamaLimitsParams) -> str:
    return (
        f"{p.service}: at most {p.max_parallel} generations at once and {p.max_loaded_models} model(s) loaded, "
        f"a CPU limit of at most {p.cpu_limit:g} cores it stays within, a bounded queue"
    )


def run(context: AnalysisContext, params: OllamaLimitsParams) -> Finding:
    recorder = Recorder(context.source)
    threshold = describe(params)
    queries = params.queries(context.service_label)
    answers = range_data(recorder, context, threshold, queries, (), timing=params.cpu_rate_range / 2)
    if isinstance(answers, Finding):
        return answers
    data: Series = {name: groups.get((), ()) for name, groups in answers.items()}
    p, window, name = params, context.window, params.service
    checks = [
        at_most(f"{name} num_parallel", data["num_parallel"], p.max_parallel, window, "reported parallelism"),
        at_most(
            f"{name} in flight", data["requests_inflight"], p.max_parallel, window, "generations in flight"
        ),
        at_most(
            f"{name} max_loaded_models", data["max_loaded_models"], p.max_loaded_models, window, "model limit"
        ),
        at_most(f"{name} loaded", data["loaded_models"], p.max_loaded_models, window, "models loaded"),
        *_cpu_checks(data, p, window),
        _queue_check(data, p, window),
    ]
    figures = [Figure(shown, peak(data[what]).value) for what, shown in _FIGURES.items() if data[what]]
    if data["rejected"]:
        figures.append(Figure("rejected", sum(s.value for s in rises(data["rejected"]))))
    plot = recorder.range(queries["requests_inflight"], window, context.step)
    return conclude(checks, threshold, recorder.evidence(context, figures, plot, p.max_parallel), "")


def _cpu_checks(data: Series, p: OllamaLimitsParams, window: Window) -> list[Check]:
    name = f"{p.service} cpu"
    if not data["cpus"]:
        return [Check(f"{name} limit", "error", "no container_spec_cpu_quota / container_spec_cpu_period")]
    unlimited = [s for s in data["cpus"] if s.value <= 0]
    if unlimited:
        return [Check(f"{name} limit", "fail", "no CPU limit (quota 0 = unlimited)")]
    quota = at_most(f"{name} limit", data["cpus"], p.cpu_limit, window, "CPU limit (cores)")
    allowed = max(s.value for s in data["cpus"]) * (1 + p.cpu_tolerance)
    use = at_most(f"{name} use", data["cpu_use"], allowed, window, "CPU use (cores)")
    return [quota, use]


def _queue_check(data: Series, p: OllamaLimitsParams, window: Window) -> Check:
    name = f"{p.service} queue"
    if not data["max_queue"]:
        return Check(name, "error", f"no {p.prefix}max_queue: the queue's bound cannot be read")
    refused = sum(s.value for s in rises(data["rejected"]))
    check = at_most(
        name, data["queue_depth"], min(s.value for s in data["max_queue"]), window, "queue length"
    )
    shown = (
        f"{refused:g} refused past it"
        if data["rejected"]
        else f"refusals unknown: no {p.prefix}rejected_total"
    )
    return Check(check.name, check.status, f"{check.detail}; {shown}")


ANALYZER = AnalyzerSpec("ollama_limits", OllamaLimitsParams, run, describe)
