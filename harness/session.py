"""Everything a run needs, as one context manager: engine, the stack project's lock, a sweep of what a
crashed run left (faults, its load), the stack (up, healthy), Prometheus, the load generator, and the
runner wired to them; on leaving, the stack down (unless kept), then the lock released.

    with HarnessSession(catalogue, files, None, Path("reports"), run_id, say) as session:
        session.runner.run(scenario)

Like testcontainers: if bringing it up fails (a service never healthy, an image that does not build,
Ctrl-C), ``__enter__`` calls ``__exit__`` and re-raises, so nothing it brought up is left half up.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.bringup import BringUp
from harness.catalogue.model import Catalogue, Scenario
from harness.driver import open_stack_files, resolve_driver
from harness.errors import HarnessError
from harness.events import DockerEngine, EventFollower, PushgatewaySink
from harness.faults.base import Fault, sigterm_as_interrupt
from harness.faults.build import build_fault
from harness.faults.journal import Journal
from harness.faults.sweep import sweep
from harness.images import build_images, require_images
from harness.load.locustload import LocustLoad, LocustSettings
from harness.logs import EngineLogSource
from harness.metrics import PrometheusSource
from harness.ports import EnginePortSource
from harness.runner import Progress, Runner
from harness.stack import Stack
from harness.state import ProjectLock, journal_path

HEALTH_TIMEOUT_S = 240.0


@dataclass(frozen=True, slots=True)
class OpenSession:
    """What a run works with once the session is up."""

    runner: Runner
    graph: Mapping[str, frozenset[str]]
    bring_up: BringUp


class HarnessSession:
    def __init__(
        self,
        catalogue: Catalogue,
        stack_files: Sequence[Path],
        project_name: str | None,
        reports: Path,
        run_id: str,
        say: Callable[[str], None],
        keep_stack: bool = False,
        health_timeout: float = HEALTH_TIMEOUT_S,
        allow_remote: bool = False,
        driver: str = "compose",
    ) -> None:
        self.catalogue = catalogue
        self.stack_files = tuple(stack_files)
        self.project_name = project_name
        self.reports = reports
        self.run_id = run_id
        self.say = say
        self.keep_stack = keep_stack
        self.health_timeout = health_timeout
        self.allow_remote = allow_remote
        self.driver = resolve_driver(driver, None)
        """compose or swarm (harness.driver)."""
        """--allow-remote-engine: the load may go to a non-loopback gateway that the catalogue names."""
        self._exits = contextlib.ExitStack()
        self._stack: Stack | None = None
        self._events: EventFollower | None = None
        self._brought_up = False
        """Set before ``stack.up`` starts anything: from then on, leaving takes the stack down."""

    def __enter__(self) -> OpenSession:
        try:
            stack, journal, bring_up = self._bring_up()
            return OpenSession(self._runner(stack, journal, bring_up), self._graph(stack), bring_up)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._exits:  # whatever happens below, the lock and the SIGTERM handler are released last
            events, self._events = self._events, None
            if events is not None:  # before the take-down, whose exits are no run's events
                events.stop()
            if self._stack is not None and self._brought_up and not self.keep_stack:
                self._brought_up = False
                self._take_down(self._stack, failing=exc is not None)

    def _bring_up(self) -> tuple[Stack, Journal, BringUp]:
        self._exits.enter_context(sigterm_as_interrupt())
        stack = self._stack = open_stack_files(
            self.driver, self.stack_files, self.project_name, self.catalogue.labels
        )
        # Before the sweep: a second run's sweep would revert the faults of the run in progress.
        self._exits.enter_context(ProjectLock(stack.project.name))
        journal = Journal(journal_path(stack.project.name))
        swept = sweep(journal, stack, self.catalogue.defaults.endpoints.faultproxy)
        for line in swept.cleaned:
            self.say(f"left by a crashed run: {line}")
        for error in swept.errors:  # expected while the stack is still down; the bring-up starts clean
            self.say(f"sweep: {error}")
        build_images(stack.project.image_builds())
        require_images(stack.project.images_not_built())  # before anything starts: one line if one is missing
        self._brought_up = True
        bring_up = stack.up(
            health_timeout=self.health_timeout,
            on_phase=lambda t: self.say(f"phase {t.phase} healthy in {t.seconds:.1f}s"),
        )
        self._follow_events(stack)
        return stack, journal, tuple(bring_up)

    def _follow_events(self, stack: Stack) -> None:
        """Restarts, exits, OOM kills and health as series (cAdvisor has none), pushed where the load's go."""
        url = self.catalogue.defaults.endpoints.pushgateway
        if not url:
            self.say("no endpoints.pushgateway: the engine's events (restarts, exits) are not exported")
            return
        sink = PushgatewaySink(url, self.run_id)
        # A client of its own: its stream and inspects run in threads beside the runner's calls.
        self._events = EventFollower(DockerEngine(), stack.project.name, sink, say=self.say)
        self._events.start()

    def _take_down(self, stack: Stack, failing: bool) -> None:
        if failing:
            self.say(f"taking stack {stack.project.name} down: it did not come up")
        try:
            left = stack.down()
        except HarnessError as error:
            if not failing:
                raise
            self.say(f"could not take the stack down: {error}")  # the error that stopped the run goes on
            return
        if left:
            self.say(
                f"left behind: containers={left.containers} networks={left.networks} volumes={left.volumes}"
            )

    @staticmethod
    def _graph(stack: Stack) -> Mapping[str, frozenset[str]]:
        return {s.name: s.depends_on for s in stack.project.services}

    def _runner(self, stack: Stack, journal: Journal, bring_up: BringUp) -> Runner:
        endpoints = self.catalogue.defaults.endpoints
        all_services = tuple(s.name for s in stack.project.services)

        def make_fault(scenario: Scenario) -> Fault:
            assert scenario.fault is not None
            return build_fault(scenario.fault, stack, endpoints.faultproxy, run_id=self.run_id)

        load = LocustLoad(
            LocustSettings(
                locustfile=self.catalogue.load.locustfile_to_run(),
                requests_json=self.catalogue.load.requests_json(),
                host=endpoints.gateway,
                bounds=self.catalogue.defaults.load_bounds,
                pushgateway_url=endpoints.pushgateway,
                workdir=self.reports / "load",
                allow_remote_host=self.allow_remote,
            ),
            register=journal,
        )
        prometheus = self.catalogue.defaults.prometheus
        return Runner(
            catalogue=self.catalogue,
            source=PrometheusSource(prometheus.url, prometheus.query_timeout),
            load=load,
            make_fault=make_fault,
            wait_ready=lambda: stack.wait_healthy(all_services, timeout=self.health_timeout),
            graph=self._graph(stack),
            journal=journal,
            progress=Progress(say=self.say),
            run_id=self.run_id,
            bring_up=bring_up,
            logs=EngineLogSource(stack.client, stack.project.name),
            ports=EnginePortSource(stack.client, stack.project.name, stack.publishers),
        )
