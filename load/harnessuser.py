"""What every locustfile the harness runs shares: the HarnessUser base class, the options below, the
pacing, the client metrics and progress the harness reads, and the parent watch. Importing it registers
its Locust event listeners, so a locustfile is its user classes (HarnessUser subclasses) and this import::

    from harnessuser import HarnessUser

The total rate is bounded: each user runs at most rate/users requests per second (constant throughput;
fewer when responses are slower than that).

Options (command line, or the environment variable named):

    --host / LOCUST_HOST / LOAD_HOST    target, default http://127.0.0.1:8080; anything not loopback
                                        (127.0.0.1, localhost, [::1]) is refused: one line, exit 2
    -u / LOCUST_USERS / LOAD_USERS      users
    --load-rate / LOAD_RATE             requests per second over all users (default 20)
    --request-timeout / LOAD_TIMEOUT    client timeout in seconds (default 30); a timeout is a failure
    --pushgateway-url / PUSHGATEWAY_URL push client metrics there every second and at test stop
    --load-run-id / LOAD_RUN_ID         the Pushgateway grouping key instance=<run id>
    --progress-file / LOAD_PROGRESS_FILE  JSON progress written every second (for the harness)
    LOAD_REMOTE_HOST                    the one non-loopback host let through (the harness sets it
                                        only for slas.yaml's gateway under --allow-remote-engine)
    LOAD_PARENT_PID                     quit (as on SIGTERM) within a second or two of that process
                                        ceasing to be this one's parent (see parentwatch.py)

What counts as a failure, and the series pushed: see pushmetrics.py. With master and workers (the
harness's ``load.workers`` > 1, or --processes), each worker sends its series to the master in its stats
reports and only the master pushes their sum and writes the progress file (workermetrics.py).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, events, runners
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner
from locust.user.wait_time import constant_throughput
from loopback import REMOTE_HOST_ENV, loopback_refusal
from parentwatch import POLL_S, expected_parent, orphaned
from prometheus_client import disable_created_metrics
from pushmetrics import ClientMetrics, Progress, RateMeter, Reporter
from workermetrics import REPORT_KEY, MergedClientMetrics, snapshot

DEFAULT_HOST = "http://127.0.0.1:8080"
REPORT_INTERVAL_S = 1.0

log = logging.getLogger("harnessuser")


class HarnessUser(FastHttpUser):
    """The base of every user class a harness locustfile defines: refuses a host that is not loopback,
    gives each request a fresh trace id. wait_time and the timeouts are set from the options at init."""

    abstract = True

    def on_start(self) -> None:
        # The web UI can change the host after init: refuse it here too.
        refusal = loopback_refusal(self.host, os.environ.get(REMOTE_HOST_ENV, ""))
        if refusal:
            log.error("refusing to load %s: %s", self.host, refusal)
            raise StopUser()

    def trace_headers(self) -> dict[str, str]:
        return {"X-Trace-ID": secrets.token_hex(16)}


@events.init_command_line_parser.add_listener
def _options(parser, **_: object) -> None:
    parser.add_argument("--load-rate", type=float, default=20.0, env_var="LOAD_RATE", help="total req/s")
    parser.add_argument("--request-timeout", type=float, default=30.0, env_var="LOAD_TIMEOUT")
    parser.add_argument("--pushgateway-url", default="", env_var="PUSHGATEWAY_URL")
    parser.add_argument("--load-run-id", default="", env_var="LOAD_RUN_ID")
    parser.add_argument("--progress-file", default="", env_var="LOAD_PROGRESS_FILE")
    # Locust's own options win; LOAD_USERS / LOAD_HOST only change their defaults.
    defaults: dict[str, object] = {"host": os.environ.get("LOAD_HOST") or DEFAULT_HOST}
    users = os.environ.get("LOAD_USERS")
    if users:
        if not users.isdigit() or int(users) < 1:
            parser.error(f"LOAD_USERS={users!r} is not a positive integer")
        defaults["num_users"] = int(users)
    parser.set_defaults(**defaults)


@events.init.add_listener
def _init(environment: Environment, **_: object) -> None:
    options = environment.parsed_options
    if options is None:  # an Environment built in code, not by the locust command: nothing to configure
        return
    refusal = loopback_refusal(environment.host, os.environ.get(REMOTE_HOST_ENV, ""))
    if refusal:
        _exit_with(f"refusing host {environment.host}: {refusal}")
    if options.load_rate <= 0 or options.request_timeout <= 0:
        _exit_with("--load-rate and --request-timeout must be positive")
    users = max(options.num_users or 1, 1)
    for user_class in environment.user_classes:  # the locustfile's own users, paced and timed alike
        user_class.wait_time = constant_throughput(options.load_rate / users)
        user_class.network_timeout = user_class.connection_timeout = options.request_timeout
    _start_reporting(environment, options.pushgateway_url, options.load_run_id, options.progress_file)
    parent = expected_parent(os.environ)
    if parent is not None and orphaned(parent):
        # Started through a wrapper (or the harness is already gone): watching would quit at once.
        log.warning(
            "LOAD_PARENT_PID=%d is not this process's parent (%d): not watching it", parent, os.getppid()
        )
    elif parent is not None:
        gevent.spawn(_quit_when_orphaned, parent)


def _exit_with(message: str) -> None:
    print(f"locustfile: {message}", file=sys.stderr)
    sys.exit(2)


def _start_reporting(environment: Environment, pushgateway_url: str, run_id: str, progress_file: str) -> None:
    disable_created_metrics()  # no *_created series in the Pushgateway: this process pushes nothing else
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        _report_to_master(environment)  # the master reports for the whole load, once
        return
    metrics = MergedClientMetrics() if isinstance(runner, MasterRunner) else ClientMetrics()
    reporter = Reporter(
        metrics,
        pushgateway_url=pushgateway_url,
        run_id=run_id or f"standalone-{os.getpid()}",
        progress_path=Path(progress_file) if progress_file else None,
    )
    if not reporter.active:
        return
    if isinstance(metrics, MergedClientMetrics):
        environment.events.worker_report.add_listener(metrics.on_worker_report)
    else:
        environment.events.request.add_listener(metrics.on_request)

    meter = RateMeter(time.monotonic())

    def report(**_: object) -> None:
        reporter.report(_progress(environment, meter))

    def every_second() -> None:
        while True:
            gevent.sleep(REPORT_INTERVAL_S)
            report()

    loop = gevent.spawn(every_second)
    environment.events.test_stop.add_listener(report)  # the final push, after the users stopped
    # A master's test_stop comes before its workers' final reports, which its quit() waits for.
    environment.events.quit.add_listener(report)
    environment.events.quitting.add_listener(lambda **_: loop.kill(block=False))


def _report_to_master(environment: Environment) -> None:
    """A worker's metrics travel in its stats reports (workermetrics.py); it pushes and writes nothing."""
    # Locust's default of 3 s would make the master's pushes lag the requests more than a single process's.
    runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL_S
    metrics = ClientMetrics()
    environment.events.request.add_listener(metrics.on_request)

    def attach(data: dict[str, object], **_: object) -> None:
        data[REPORT_KEY] = snapshot(metrics.registry)

    environment.events.report_to_master.add_listener(attach)


def _quit_when_orphaned(parent: int) -> None:
    while not orphaned(parent):
        gevent.sleep(POLL_S)
    log.warning("the harness (pid %d) is gone: stopping the load", parent)
    os.kill(os.getpid(), signal.SIGTERM)  # Locust's own clean stop: users stopped, a last report, exit


def _progress(environment: Environment, meter: RateMeter) -> Progress:
    runner, total = environment.runner, environment.stats.total
    return Progress(
        state=str(runner.state) if runner else "missing",
        users=runner.user_count if runner else 0,
        rps=round(meter.rate(time.monotonic(), total.num_requests), 3),
        requests=total.num_requests,
        failures=total.num_failures,
    )
