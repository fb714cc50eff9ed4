"""Everything a run needs, opened once: engine, stack (up, healthy), a sweep of a crashed run's
faults, Prometheus, the load generator, and the runner wired to them; closed in reverse order."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue.model import Catalogue, Scenario
from harness.faults.base import Fault, sigterm_as_interrupt
from harness.faults.build import build_fault
from harness.faults.journal import Journal
from harness.faults.sweep import sweep
from harness.images import build_images
from harness.load.locustload import LocustLoad, LocustSettings
from harness.metrics import PrometheusSource
from harness.runner import Progress, Runner
from harness.stack import Stack

LOCUSTFILE = Path("load/locustfile.py")
JOURNAL = "faults-in-force.json"
HEALTH_TIMEOUT_S = 240.0


@dataclass
class HarnessSession:
    runner: Runner
    stack: Stack
    graph: Mapping[str, frozenset[str]]
    exits: contextlib.ExitStack

    def close(self, keep_stack: bool) -> None:
        with self.exits:
            if not keep_stack:
                self.stack.down()


def open_session(
    catalogue: Catalogue,
    stack_files: Sequence[Path],
    project_name: str | None,
    reports: Path,
    run_id: str,
    say: Callable[[str], None],
) -> HarnessSession:
    endpoints = catalogue.defaults.endpoints
    stack = Stack.from_files(stack_files, project_name)
    project = stack.project
    journal = Journal(reports / JOURNAL)
    exits = contextlib.ExitStack()
    exits.enter_context(sigterm_as_interrupt())
    try:
        swept = sweep(journal, stack, endpoints.faultproxy)
        if swept.cleaned:
            say(f"reverted faults a crashed run left behind: {', '.join(swept.cleaned)}")
        for error in swept.errors:  # expected while the stack is still down; the bring-up starts clean
            say(f"sweep: {error}")
        build_images(project.image_builds())
        stack.up(
            health_timeout=HEALTH_TIMEOUT_S,
            on_phase=lambda t: say(f"phase {t.phase} healthy in {t.seconds:.1f}s"),
        )
    except BaseException:
        exits.close()
        raise
    graph = {s.name: s.depends_on for s in project.services}
    all_services = tuple(s.name for s in project.services)

    def make_fault(scenario: Scenario) -> Fault:
        assert scenario.fault is not None
        return build_fault(scenario.fault, stack, endpoints.faultproxy)

    load = LocustLoad(
        LocustSettings(
            locustfile=LOCUSTFILE,
            host=endpoints.gateway,
            bounds=catalogue.defaults.load_bounds,
            pushgateway_url=endpoints.pushgateway,
            workdir=reports / "load",
        )
    )
    prometheus = catalogue.defaults.prometheus
    runner = Runner(
        catalogue=catalogue,
        source=PrometheusSource(prometheus.url, prometheus.query_timeout),
        load=load,
        make_fault=make_fault,
        wait_ready=lambda: stack.wait_healthy(all_services, timeout=HEALTH_TIMEOUT_S),
        graph=graph,
        journal=journal,
        progress=Progress(say),
        run_id=run_id,
    )
    return HarnessSession(runner, stack, graph, exits)
