"""The pytest plugin behind `make sla`: options, the `chaos` fixture, scenario parametrisation, reports.

Thin on purpose: everything that runs a scenario lives in harness.runner and works without pytest.
Here pytest contributes selection (`-k redis`, `-m ...`), the per-scenario test outcome, and the
session's exit code, which is the SLA verdict's (0 pass, 1 an SLA failed, 2 could not measure),
not pytest's own.

Scenario files mark their fault family; each test taking a ``scenario`` argument is run once per
scenario of slas.yaml in that family:

    pytestmark = pytest.mark.fault_family("container")

    def test_container_fault(chaos, scenario):
        chaos.check(scenario)
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.catalogue import load_catalogue
from harness.catalogue.history import with_history
from harness.catalogue.load_spec import require_load
from harness.catalogue.model import BURST_KINDS, PRESSURE_KINDS, Catalogue, Scenario
from harness.driver import DRIVERS
from harness.errors import HarnessError
from harness.faults.lifecycle import IDLE, LIFECYCLE_KINDS
from harness.history.recording import run_history
from harness.history.store import check_history
from harness.interrupts import deferred_interrupts
from harness.remote import ALLOW_DEST, guard_engine
from harness.reports import render_summary, write_reports
from harness.reports.run_record import RunRecord, ScenarioRecord, write_run_record
from harness.runner import ScenarioResult
from harness.session import HEALTH_TIMEOUT_S, HarnessSession, OpenSession
from harness.stack import DEFAULT_STACK
from harness.state import StackBusy
from harness.verdict import Verdict

FAMILIES = ("none", "container", "proxy", "burst", "pressure", "lifecycle", "partition")
RUN_RECORD = "run.json"


def fault_family(scenario: Scenario) -> str:
    if scenario.fault is None:
        return "none"
    if scenario.fault.kind in (*LIFECYCLE_KINDS, IDLE):
        return "lifecycle"
    if scenario.fault.kind in BURST_KINDS:
        return "burst"
    if scenario.fault.kind in PRESSURE_KINDS:
        return "pressure"
    return scenario.fault.kind.split("_", 1)[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "chaos and SLA harness")
    group.addoption("--stack", nargs="+", default=[DEFAULT_STACK], metavar="FILE", help="compose files")
    group.addoption("--slas", default="slas.yaml", help="the SLA catalogue (default slas.yaml)")
    group.addoption("--reports", default="reports", help="where reports go (default reports/)")
    group.addoption("--project-name", default=None, help="Compose project name")
    group.addoption(
        "--driver",
        default=None,
        choices=DRIVERS,
        help="compose or swarm (default: slas.yaml's defaults.driver, else compose)",
    )
    group.addoption("--keep-stack", action="store_true", help="leave the stack running at the end")
    group.addoption(
        "--nightly",
        action="store_true",
        help="also run the scenarios slas.yaml marks `nightly: true` (default: left out)",
    )
    group.addoption("--history", default=None, help="the history file (default: slas.yaml defaults.history)")
    group.addoption(
        "--allow-remote-engine",
        action="store_true",
        dest=ALLOW_DEST,
        help="drive a Docker engine other than the local socket, and load a non-loopback gateway slas.yaml names",
    )
    group.addoption(
        "--health-timeout",
        type=float,
        default=HEALTH_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long each phase may take to become healthy (default {HEALTH_TIMEOUT_S:g})",
    )


@dataclass
class _State:
    catalogue: Catalogue
    reports: Path
    run_id: str
    """One id for the whole run: its load, its event series, its history row."""
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """Holds the HarnessSession once it is up: closed (stack down, lock released) at the session's end."""
    session: OpenSession | None = None
    results: list[ScenarioResult] = field(default_factory=list)
    could_not_run: str | None = None
    incomplete: bool = False
    """A scenario did not get judged (its run raised, or the harness could not start)."""
    busy: str | None = None
    """Another run holds the stack: this one did nothing, and its reports folder may be that run's."""


_STATE = pytest.StashKey[_State]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"fault_family(name): scenarios of slas.yaml in that family: {', '.join(FAMILIES)}"
    )
    config.addinivalue_line(
        "markers", "nightly: a scenario slas.yaml marks `nightly: true`; run with --nightly"
    )
    if config.option.help or config.option.version:  # pytest only prints: no catalogue is needed
        return
    try:
        guard_engine(config.option)  # also when pytest is run without `harness run` in front
        catalogue = with_history(load_catalogue(config.getoption("slas")), config.getoption("history"))
        check_history(catalogue.defaults.history)  # a bad history file is found before the stack comes up
        require_load(catalogue.path, catalogue.load)
    except HarnessError as exc:
        pytest.exit(f"harness: {exc}", returncode=2)
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    config.stash[_STATE] = _State(catalogue, Path(config.getoption("reports")), run_id)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("fault_family")
    if marker is None or marker.args[0] not in FAMILIES:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: mark it fault_family(one of {', '.join(FAMILIES)})"
        )
    catalogue = metafunc.config.stash[_STATE].catalogue
    chosen = [
        pytest.param(s, id=s.name, marks=[pytest.mark.nightly] if s.nightly else [])
        for s in catalogue.scenarios
        if fault_family(s) == marker.args[0]
    ]
    metafunc.parametrize("scenario", chosen)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the nightly-only scenarios unless --nightly asks for them, and the scenarios the chosen
    driver does not run (their ``drivers``), and say so."""
    driver = _driver(config)
    if not config.getoption("nightly"):
        _leave_out(config, items, lambda s: s.nightly, "the nightly-only scenario(s) {}: --nightly runs them")
    _leave_out(
        config,
        items,
        lambda s: bool(s.drivers) and driver not in s.drivers,
        f"the scenario(s) {{}}: slas.yaml runs them under another driver than {driver} (`drivers`)",
    )


def _driver(config: pytest.Config) -> str:
    """--driver when given, else slas.yaml's ``defaults.driver``."""
    return str(config.getoption("driver") or config.stash[_STATE].catalogue.defaults.driver)


def _leave_out(
    config: pytest.Config, items: list[pytest.Item], unwanted: Callable[[Scenario], bool], said: str
) -> None:
    left = [item for item in items if (found := _scenario_of(item)) is not None and unwanted(found)]
    if not left:
        return
    config.hook.pytest_deselected(items=left)
    items[:] = [item for item in items if item not in left]
    names = ", ".join(item.callspec.id for item in left if isinstance(item, pytest.Function))
    print(f"harness: left out {said.format(names)}", file=sys.stderr)


def _scenario_of(item: pytest.Item) -> Scenario | None:
    callspec = getattr(item, "callspec", None)
    found = callspec.params.get("scenario") if callspec is not None else None
    return found if isinstance(found, Scenario) else None


class Chaos:
    """What a scenario test gets: run a scenario, record its verdicts, fail the test as they say."""

    def __init__(self, state: _State, config: pytest.Config) -> None:
        self.state = state
        self.config = config

    def check(self, scenario: Scenario) -> None:
        session = self._session()
        try:
            result = session.runner.run(scenario)
        except BaseException:
            self.state.incomplete = True
            raise
        self.state.results.append(result)
        failed = [v for v in result.verdicts if v.severity == "gate" and v.status == "fail"]
        errors = [v for v in result.verdicts if v.severity == "gate" and v.status == "error"]
        if failed or errors:
            lines = [
                f"{v.status.upper()} {v.id} [{v.window}] rule {v.rule}: {v.reason}" for v in failed + errors
            ]
            pytest.fail("\n".join(lines), pytrace=False)

    def _say(self, line: str) -> None:
        # pytest captures file descriptors during a test: progress must step past the capture.
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(f"harness: {line}", file=sys.stderr, flush=True)

    def _session(self) -> OpenSession:
        if self.state.could_not_run:
            pytest.fail(f"harness could not run: {self.state.could_not_run}", pytrace=False)
        if self.state.session is None:
            session = HarnessSession(
                self.state.catalogue,
                stack_files=[Path(f) for f in self.config.getoption("stack")],
                project_name=self.config.getoption("project_name"),
                reports=self.state.reports,
                run_id=self.state.run_id,
                say=self._say,
                keep_stack=self.config.getoption("keep_stack"),
                allow_remote=self.config.getoption(ALLOW_DEST),
                health_timeout=self.config.getoption("health_timeout"),
                driver=_driver(self.config),
            )
            try:
                self.state.session = self.state.exits.enter_context(session)
            except StackBusy as exc:
                self.state.busy = str(exc)
                pytest.exit(f"harness: {exc}", returncode=2)
            except BaseException as exc:
                self.state.could_not_run = str(exc) or type(exc).__name__
                self.state.incomplete = True
                if not isinstance(exc, HarnessError):
                    raise
                pytest.fail(f"harness could not run: {exc}", pytrace=False)
        return self.state.session


@pytest.fixture(scope="session")
def chaos(request: pytest.FixtureRequest) -> Chaos:
    return Chaos(request.config.stash[_STATE], request.config)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None or session.config.option.collectonly:  # nothing ran: nothing to judge or record
        return
    with deferred_interrupts(_say_now) as interrupted:
        state.exits.close()
        if state.busy:
            print(f"harness: {state.busy}", file=sys.stderr)
            session.exitstatus = 2
            return
        session.exitstatus = _report(session, state, exitstatus, interrupted)


def _report(session: pytest.Session, state: _State, exitstatus: int, interrupted: Callable[[], bool]) -> int:
    verdicts: list[Verdict] = [v for r in state.results for v in r.verdicts]
    records: tuple[ScenarioRecord, ...] = tuple(r.record for r in state.results)
    state.reports.mkdir(parents=True, exist_ok=True)
    graph = state.session.graph if state.session else {}
    record = RunRecord(records, graph, state.session.bring_up if state.session else ())
    write_run_record(state.reports / RUN_RECORD, record)
    compose_file = Path(session.config.getoption("stack")[0])
    history = run_history(state.catalogue, state.run_id, record, compose_file)
    verdicts += history.regressions(verdicts)
    # Interrupted, or a scenario that raised instead of being judged: something went unmeasured.
    complete = (
        not state.incomplete
        and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        and not interrupted()
    )
    steps = {r.name: r.steps for r in records}
    code = write_reports(state.reports, verdicts, steps, complete, state.catalogue, history)
    print("\n" + render_summary(verdicts, catalogue=state.catalogue), file=sys.stderr)
    if state.could_not_run:
        print(f"harness: could not run: {state.could_not_run}", file=sys.stderr)
    return code


def _say_now(line: str) -> None:
    print(f"harness: {line}", file=sys.stderr, flush=True)
