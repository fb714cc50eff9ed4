"""Steady load on a SutazAI-style gateway: agents' tasks, async tasks and health checks.

Runs standalone::

    locust -f load/locustfile.py --headless -u 5 -t 10s --host http://127.0.0.1:8080

and under the harness (harness.load.LocustLoad), which passes the same options plus the env below.

Requests (the Locust ``name`` of each, through the gateway's /api/<agent>/... routes), by weight:

    4  "orchestrator task"     POST /api/orchestrator/task        {"input": ...}
    2  "summarizer task"       POST /api/summarizer/task
    2  "indexer task"          POST /api/indexer/task
    2  "orchestrator async"    POST /api/orchestrator/task/async
    1  "orchestrator health"   GET  /api/orchestrator/health      (each agent's /health)
    1  "summarizer health"     GET  /api/summarizer/health
    1  "indexer health"        GET  /api/indexer/health

Every request carries a fresh X-Trace-ID. The total rate is bounded: each user runs at most
rate/users requests per second (constant throughput; fewer when responses are slower than that).

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

What counts as a failure, and the series pushed: see pushmetrics.py. Pushing works in single-process
mode only (the harness's); with --processes or master/worker the metrics are not pushed.
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
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import LocalRunner
from locust.user.wait_time import constant_throughput
from loopback import REMOTE_HOST_ENV, loopback_refusal
from parentwatch import POLL_S, expected_parent, orphaned
from prometheus_client import disable_created_metrics
from pushmetrics import ClientMetrics, Progress, RateMeter, Reporter

DEFAULT_HOST = "http://127.0.0.1:8080"
REPORT_INTERVAL_S = 1.0

log = logging.getLogger("locustfile")


class GatewayUser(FastHttpUser):
    """One client of the gateway. wait_time and the timeouts are set from the options at init."""

    def on_start(self) -> None:
        # The web UI can change the host after init: refuse it here too.
        refusal = loopback_refusal(self.host, os.environ.get(REMOTE_HOST_ENV, ""))
        if refusal:
            log.error("refusing to load %s: %s", self.host, refusal)
            raise StopUser()

    def _headers(self) -> dict[str, str]:
        return {"X-Trace-ID": secrets.token_hex(16)}

    def _post(self, path: str, name: str) -> None:
        body = {"input": f"load {secrets.token_hex(4)}"}
        self.client.post(path, json=body, headers=self._headers(), name=name)

    def _task(self, agent: str) -> None:
        self._post(f"/api/{agent}/task", f"{agent} task")

    def _health(self, agent: str) -> None:
        self.client.get(f"/api/{agent}/health", headers=self._headers(), name=f"{agent} health")

    @task(4)
    def orchestrator_task(self) -> None:
        self._task("orchestrator")

    @task(2)
    def summarizer_task(self) -> None:
        self._task("summarizer")

    @task(2)
    def indexer_task(self) -> None:
        self._task("indexer")

    @task(2)
    def orchestrator_async(self) -> None:
        self._post("/api/orchestrator/task/async", "orchestrator async")

    @task(1)
    def orchestrator_health(self) -> None:
        self._health("orchestrator")

    @task(1)
    def summarizer_health(self) -> None:
        self._health("summarizer")

    @task(1)
    def indexer_health(self) -> None:
        self._health("indexer")


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
    GatewayUser.wait_time = constant_throughput(options.load_rate / users)
    GatewayUser.network_timeout = GatewayUser.connection_timeout = options.request_timeout
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
    reporter = Reporter(
        ClientMetrics(),
        pushgateway_url=pushgateway_url,
        run_id=run_id or f"standalone-{os.getpid()}",
        progress_path=Path(progress_file) if progress_file else None,
    )
    if not reporter.active:
        return
    if not isinstance(environment.runner, LocalRunner):
        log.warning("client metrics are reported in single-process mode only; not reporting")
        return
    disable_created_metrics()  # no *_created series in the Pushgateway: this process pushes nothing else
    environment.events.request.add_listener(reporter.metrics.on_request)

    meter = RateMeter(time.monotonic())

    def report(**_: object) -> None:
        reporter.report(_progress(environment, meter))

    def every_second() -> None:
        while True:
            gevent.sleep(REPORT_INTERVAL_S)
            report()

    loop = gevent.spawn(every_second)
    environment.events.test_stop.add_listener(report)  # the final push, after the users stopped
    environment.events.quitting.add_listener(lambda **_: loop.kill(block=False))


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
