"""Requests per second of 1, 2 and 4 Locust workers against the gateway's /health, driven through the
harness's own load driver exactly as a run drives it, and the harness's CPU per request over bare Locust's.

Target: http://127.0.0.1:8080/health, the reference gateway (stack/images/gateway/haproxy.cfg). HAProxy
answers /health itself (``monitor-uri``): no agent behind it, nothing logged, and before any http-request
rule, so the per-client rate limit (GATEWAY_RATE_LIMIT, a 429 above 2,000 req/s from one address) never
applies. What is measured is the load generator against the gateway's front door, not an agent;
/api/<agent>/health would measure a Python agent and hit the rate limit.

For each of 1, 2 and 4 workers, two loads of the same users for the same time, one after the other:

- the harness: ``harness.load.LocustLoad`` as the runner builds and runs it (``running()``, progress read
  every second), with the packaged generic locustfile sending the one GET as slas.yaml's ``load.requests``
  would list it, and ``load.workers`` workers: one Locust process, or a master and N worker processes whose
  client metrics the master merges and pushes. A Pushgateway stand-in on loopback records each push;
  req/s, p50 and p99 are read from the merged series between two pushes a window apart (p50/p99 as
  Prometheus' histogram_quantile reads the buckets: the same series the judge reads).
- the baseline: bare Locust: the same command lines (harness.load's own), a FastHttpUser (the harness's
  client class, so the client library is not part of the difference) sending the same GET, and nothing
  else: no client metrics, trace ids, pacing, progress file or pushes. Its master's request count is read
  once a second (workers report every second, as under the harness).

CPU per request: the user + system time (from /proc, bench/_proc.py) of every Locust process, plus for
the harness the harness process's own (here this script: the driver, minus the Pushgateway stand-in),
over the window's requests. "added" is the harness's figure minus bare Locust's: what the harness costs
per request. The rate is the bench's own bound (RATE), far above what 2 cores can send, so the pacing
never waits: both loads send as fast as they can. Printed, never asserted. Exit 2 when it could not run
(bad options, a target that is not loopback or does not answer, a load that did not start or died).

    python bench/load_bench.py [--host URL] [--path /health] [--seconds 20] [--users 16] [--up]
    python bench/load_bench.py --self-test --seconds 3     (against a loopback server of its own)

--up (what `make bench` runs, after benches that leave the stack down): when nothing answers at the
target, bring the reference stack up first (its images built, as `make bench` builds them) and take it
down after; a stack already answering is used as it is and left up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import httpx
from _proc import cpu_between, cpu_by_pid, descendants, own_cpu_seconds
from prometheus_client.parser import text_string_to_metric_families

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.errors import HarnessError
from harness.load import LoadError, LocustLoad, LocustSettings, check_loopback, running
from harness.load.locustload import build_command
from harness.load.process import signal_group
from harness.load.workers import free_port, worker_command
from harness.packaged import generic_locustfile

REPO = Path(__file__).resolve().parents[1]
WORKDIR = REPO / "reports" / "bench-load"
WORKERS = (1, 2, 4)
RATE = 100_000.0
"""req/s over all users: the bench's own bound, far above what 2 cores send, so the pacing never waits."""
MAX_USERS, MAX_SECONDS = 64, 120.0
WARMUP_S = 3.0
"""After every user runs: the workers' first reports reach the master before the window opens."""
SAMPLE_TIMEOUT_S = 5.0
STOP_GRACE_S = 10.0

# ---- what the merged pushes say (pure: tests/unit/test_load_bench.py)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The load's client series in one push, summed over request names and methods."""

    at: float
    """When it came (monotonic clock)."""
    requests: float
    failures: float
    buckets: tuple[tuple[float, float], ...]
    """(le, cumulative count) of locust_request_duration_seconds, ascending, +Inf last."""


def parse_push(text: str, at: float) -> Snapshot:
    requests = failures = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "locust_requests_total":
                requests += sample.value
                failures += sample.value if sample.labels.get("outcome") == "failure" else 0.0
            elif sample.name == "locust_request_duration_seconds_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return Snapshot(at, requests, failures, tuple(sorted(buckets.items())))


def between(first: Snapshot, last: Snapshot) -> Snapshot:
    """What happened from ``first`` to ``last`` (the series are cumulative)."""
    before = dict(first.buckets)
    buckets = tuple((le, count - before.get(le, 0.0)) for le, count in last.buckets)
    return Snapshot(
        last.at - first.at, last.requests - first.requests, last.failures - first.failures, buckets
    )


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile on cumulative buckets: linear within the bucket the rank falls in (from
    0 for the first), the highest finite bound when it falls in +Inf; None without observations."""
    if not buckets or buckets[-1][0] != math.inf or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank and count > below:
            if le == math.inf:
                return lower
            return lower + (le - lower) * (rank - below) / (count - below)
        lower, below = le, count
    return None


def quantile_ms(q: float, buckets: Sequence[tuple[float, float]]) -> str:
    """The quantile in ms, or all the buckets can say of it: "<5" when it falls in the first bucket (where
    Prometheus interpolates from 0), ">60000" when it falls in +Inf."""
    value = histogram_quantile(q, buckets)
    if value is None:
        return "-"
    rank = q * buckets[-1][1]
    if buckets[0][1] >= rank:
        return f"<{buckets[0][0] * 1000:g}"
    if buckets[-2][1] < rank:
        return f">{buckets[-2][0] * 1000:g}"
    return f"{value * 1000:.1f}"


def us_per_request(cpu_seconds: float, cpu_elapsed: float, rps: float) -> float:
    """CPU microseconds per request from a CPU rate and a request rate (each over its own interval)."""
    if cpu_elapsed <= 0 or rps <= 0:
        return math.nan
    return cpu_seconds / cpu_elapsed / rps * 1e6


@dataclass(frozen=True, slots=True)
class Row:
    workers: int
    rps: float
    p50: str
    p99: str
    cpu_us: float
    """The harness: every Locust process and the harness process itself, per request."""
    bare_rps: float
    bare_cpu_us: float


def table(rows: Sequence[Row]) -> list[str]:
    """The printed table; "x of 1" against the first row's req/s (that of 1 worker)."""
    lines = [
        f"  {'workers':>7} {'req/s':>9} {'x of 1':>6} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10}"
        f" | {'bare req/s':>10} {'bare us/req':>11} {'added us/req':>12}"
    ]
    one = rows[0].rps if rows else 0.0
    for row in rows:
        ratio = row.rps / one if one > 0 else math.nan
        lines.append(
            f"  {row.workers:>7} {row.rps:>9.1f} {ratio:>6.2f} {row.p50:>7} {row.p99:>7} {row.cpu_us:>10.1f}"
            f" | {row.bare_rps:>10.1f} {row.bare_cpu_us:>11.1f} {row.cpu_us - row.bare_cpu_us:>12.1f}"
        )
    return lines


# ---- the Pushgateway stand-in


class PushRecorder:
    """Loopback stand-in for the Pushgateway: keeps every push (path, body, when it came), answers deletes.
    ``cpu`` is the thread time spent answering, which is the bench's and not the harness's."""

    def __init__(self) -> None:
        self.pushes: list[tuple[float, str, str]] = []
        self.cpu = 0.0
        self._changed = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                started = time.thread_time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with recorder._changed:
                    recorder.pushes.append((time.monotonic(), self.path, body))
                    recorder._changed.notify_all()
                self.send_response(200)
                self.end_headers()
                recorder.cpu += time.thread_time() - started

            do_POST = do_PUT

            def do_DELETE(self) -> None:
                self.send_response(202)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def next_push(self, run_id: str, after: float) -> Snapshot:
        """The first push of ``run_id``'s group that came after ``after``; LoadError if none comes in time."""
        suffix = f"/instance/{run_id}"
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((p for p in self.pushes if p[0] > after and p[1].endswith(suffix)), None),
                timeout=SAMPLE_TIMEOUT_S,
            )
        if found is None:
            raise LoadError(f"no push of load {run_id} within {SAMPLE_TIMEOUT_S:g}s")
        return parse_push(found[2], found[0])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---- measuring one load


@dataclass(frozen=True, slots=True)
class Measured:
    rps: float
    cpu_us: float
    own_us: float
    """The harness process's own share of ``cpu_us`` (0 for bare Locust)."""
    window: Snapshot | None = None
    requests: int = 0
    """Over the whole load (the harness's LoadSummary; 0 for bare Locust)."""


@dataclass(frozen=True, slots=True)
class Options:
    host: str
    path: str
    seconds: float
    users: int
    exclude: tuple[int, ...]
    """Processes below this one that are not load (the self-test's server)."""


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    cpu: dict[int, float]
    own: float


def _read_cpu(recorder: PushRecorder | None, exclude: Sequence[int]) -> _Reading:
    own = (own_cpu_seconds(os.getpid()) or 0.0) - (recorder.cpu if recorder else 0.0)
    return _Reading(time.monotonic(), cpu_by_pid(descendants(os.getpid(), exclude)), own)


def _hold(seconds: float, check: Callable[[], object]) -> None:
    """Let the load run, checking on it every second as the runner's hold does (LoadError if it died)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        check()


def _level(options: Options, workers: int) -> LoadLevel:
    return LoadLevel(users=options.users, spawn_rate=options.users, rate=RATE, workers=workers)


def _settings(
    options: Options, locustfile: Path, pushgateway_url: str = "", requests: str = ""
) -> LocustSettings:
    return LocustSettings(
        locustfile=locustfile,
        host=options.host,
        bounds=LoadBounds(max_users=MAX_USERS, max_rate=RATE, max_duration=MAX_SECONDS + 60),
        pushgateway_url=pushgateway_url,
        workdir=WORKDIR,
        requests_json=requests,
        scrape_delay=0.0,  # no Prometheus to scrape the last push: nothing to wait for after the window
    )


def _duration(options: Options) -> float:
    return WARMUP_S + options.seconds + 2 * SAMPLE_TIMEOUT_S


def measure_harness(options: Options, workers: int, recorder: PushRecorder) -> Measured:
    run_id = f"bench-load-{workers}w"  # its folder, reports/bench-load/<run id>, is reused run after run
    requests = [{"name": "health", "method": "GET", "path": options.path, "body": None, "weight": 1}]
    settings = _settings(options, generic_locustfile(), recorder.url, json.dumps(requests))

    def check() -> None:
        if load.progress().lost_workers:  # its figures would be short of the lost worker's requests
            raise LoadError(f"a Locust worker of {workers} died (logs: {WORKDIR / run_id})")

    with running(LocustLoad(settings), _level(options, workers), _duration(options), run_id) as load:
        _hold(WARMUP_S, check)
        first = recorder.next_push(run_id, time.monotonic())
        before = _read_cpu(recorder, options.exclude)
        _hold(options.seconds, check)
        last = recorder.next_push(run_id, time.monotonic())
        after = _read_cpu(recorder, options.exclude)
    assert load.summary is not None  # running() sets it on leaving the block
    window = between(first, last)
    rps = window.requests / window.at if window.at > 0 else 0.0
    elapsed = after.at - before.at
    # /proc counts in clock ticks, the stand-in's thread time finer: a few ms of it can make this negative
    own_cpu = max(after.own - before.own, 0.0)
    total = cpu_between(before.cpu, after.cpu) + own_cpu
    own = us_per_request(own_cpu, elapsed, rps)
    return Measured(rps, us_per_request(total, elapsed, rps), own, window, load.summary.requests)


BARE_LOCUSTFILE = '''\
"""load_bench's baseline: Locust itself sending one GET; nothing of the harness."""

import os
import time

import gevent
from locust import FastHttpUser, events, runners, task
from locust.runners import WorkerRunner

PATH = os.environ["BENCH_PATH"]


class BareUser(FastHttpUser):
    @task
    def get(self):
        self.client.get(PATH, name="health")


@events.init.add_listener
def _count(environment, **_):
    if isinstance(environment.runner, WorkerRunner):
        runners.WORKER_REPORT_INTERVAL = 1.0  # as harnessuser.py: the master's count as fresh as the harness's
        return

    def write():
        while True:
            gevent.sleep(1.0)
            with open(os.environ["BENCH_COUNTS"], "a") as out:
                total = environment.stats.total.num_requests
                out.write(f"{time.monotonic()} {total} {environment.runner.user_count}\\n")

    gevent.spawn(write)
'''


class BareLocust:
    """Bare Locust started with harness.load's own command lines, in sessions of their own."""

    def __init__(self, options: Options, workers: int) -> None:
        self.options, self.workers = options, workers
        self.dir = WORKDIR / f"bare-{workers}w"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.counts = self.dir / "counts"
        self.counts.unlink(missing_ok=True)
        self._procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self) -> None:
        locustfile = self.dir / "bare_locustfile.py"
        locustfile.write_text(BARE_LOCUSTFILE)
        settings = _settings(self.options, locustfile)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOAD_"))}
        env.update(BENCH_PATH=self.options.path, BENCH_COUNTS=str(self.counts))
        port = free_port() if self.workers > 1 else None
        level = _level(self.options, self.workers)
        self._spawn(build_command(settings, level, _duration(self.options), port), env, "locust.log")
        if port is not None:
            command = worker_command(settings.command, locustfile, self.options.host, port)
            for index in range(1, self.workers + 1):
                self._spawn(command, env, f"locust-worker-{index}.log")
        deadline = time.monotonic() + settings.start_timeout + 1
        while (latest := self.latest()) is None or latest[2] < self.options.users:
            self.check()
            if time.monotonic() > deadline:
                raise LoadError(f"bare Locust: {self.options.users} users not running (logs: {self.dir})")
            time.sleep(0.2)

    def _spawn(self, command: list[str], env: dict[str, str], log_name: str) -> None:
        log = (self.dir / log_name).open("wb")
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._procs.append((proc, log))

    def latest(self) -> tuple[float, int, int] | None:
        """The master's last (monotonic time, requests, users)."""
        try:
            lines = self.counts.read_text().splitlines()
        except FileNotFoundError:
            return None
        parts = lines[-1].split() if lines else []
        return (float(parts[0]), int(parts[1]), int(parts[2])) if len(parts) == 3 else None

    def next_count(self, after: float) -> tuple[float, int]:
        deadline = time.monotonic() + SAMPLE_TIMEOUT_S
        while (latest := self.latest()) is None or latest[0] <= after:
            self.check()
            if time.monotonic() > deadline:
                raise LoadError(f"bare Locust wrote no count within {SAMPLE_TIMEOUT_S:g}s (logs: {self.dir})")
            time.sleep(0.05)
        return latest[0], latest[1]

    def check(self) -> None:
        for proc, _ in self._procs:
            if proc.poll() is not None:
                raise LoadError(
                    f"bare Locust (pid {proc.pid}) exited with code {proc.returncode} (logs: {self.dir})"
                )

    def stop(self) -> None:
        """The master first (it tells its workers to quit), then the workers; SIGKILL after the grace."""
        for proc, log in self._procs:
            if proc.poll() is None:
                signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
            log.close()


def measure_bare(options: Options, workers: int) -> Measured:
    bare = BareLocust(options, workers)
    try:
        bare.start()
        _hold(WARMUP_S, bare.check)
        first = bare.next_count(time.monotonic())
        before = _read_cpu(None, options.exclude)
        _hold(options.seconds, bare.check)
        last = bare.next_count(time.monotonic())
        after = _read_cpu(None, options.exclude)
    finally:
        bare.stop()
    rps = (last[1] - first[1]) / (last[0] - first[0])
    cpu = cpu_between(before.cpu, after.cpu)
    return Measured(rps, us_per_request(cpu, after.at - before.at, rps), 0.0)


# ---- the self-test's target


def serve() -> None:
    """--serve: the self-test's stand-in for the gateway. Keep-alive HTTP/1.1 on loopback answering every
    request without a body with 200 "ok" (GET /count: how many it answered); quits when its parent does."""
    answered = 0
    parent = os.getppid()

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport, self.buffer = transport, b""

        def data_received(self, data: bytes) -> None:
            nonlocal answered
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                if head.split(b" ", 2)[1:2] == [b"/count"]:
                    body = str(answered).encode()
                else:
                    answered += 1
                    body = b"ok"
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        while os.getppid() == parent:
            await asyncio.sleep(1)

    asyncio.run(main())


def _start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def _answered(host: str) -> int:
    return int(httpx.get(f"{host}/count", timeout=5).text)


# ---- the run


def _up_unless_answering(url: str) -> Callable[[], object] | None:
    """--up: the reference stack up to all-healthy when nothing answers at ``url`` (as stack_bench brings it
    up); its down() to call after, or None when something already answered."""
    try:
        _probe(url)
        return None
    except LoadError as exc:
        print(f"{exc}: bringing the reference stack up", flush=True)
    from harness.stack import Stack  # the Docker engine only when asked for

    stack = Stack.from_files([REPO / "stack" / "compose.yml"])
    try:
        stack.up(health_timeout=240)
    except BaseException:
        stack.down()
        raise
    return stack.down


def _probe(url: str) -> str:
    """How the target answers one GET (LoadError when it does not, or with an error)."""
    try:
        with httpx.Client(timeout=5) as client:
            started = time.monotonic()
            response = client.get(url)
            took = (time.monotonic() - started) * 1000
    except httpx.HTTPError as exc:
        raise LoadError(f"nothing answers at {url}: {exc}") from exc
    if response.status_code >= 400:
        raise LoadError(f"{url} answers HTTP {response.status_code}: not a target to measure")
    closes = response.headers.get("connection", "").lower() == "close"
    keep = "closes the connection after each answer" if closes else "keeps the connection alive"
    return f"HTTP {response.status_code} in {took:.1f} ms, {keep}"


def run(options: Options, self_test: bool) -> int:
    url = f"{options.host.rstrip('/')}{options.path}"
    check_loopback(options.host)
    print(f"load on GET {url}: {_probe(url)}")
    print(
        f"  {options.users} users, {options.seconds:g} s per load after a {WARMUP_S:g} s warm-up, rate bound"
        f" {RATE:g} req/s (never reached), {os.cpu_count()} CPUs"
    )
    recorder = PushRecorder()
    rows, own = [], []
    try:
        for workers in WORKERS:
            served = _answered(options.host) if self_test else 0
            harness = measure_harness(options, workers, recorder)
            if self_test:
                print(
                    f"  {workers} worker(s): the self-test server answered {_answered(options.host) - served}"
                    f" requests, the harness's merged count says {harness.requests}"
                )
            bare = measure_bare(options, workers)
            assert harness.window is not None
            buckets = harness.window.buckets
            rows.append(
                Row(
                    workers,
                    harness.rps,
                    quantile_ms(0.5, buckets),
                    quantile_ms(0.99, buckets),
                    harness.cpu_us,
                    bare.rps,
                    bare.cpu_us,
                )
            )
            own.append(harness.own_us)
            if harness.window.failures:
                print(f"  {workers} worker(s): {harness.window.failures:.0f} failed requests in the window")
    finally:
        recorder.close()
    print("\n".join(table(rows)))
    print(
        "  req/s, p50, p99: the merged client series the harness pushed, between two pushes "
        f"{options.seconds:g} s apart (p50/p99 interpolated in the buckets as Prometheus does: 5, 10, 25 ms...)"
    )
    print(
        "  CPU us/req: user+system time of every Locust process (and, for the harness, of the harness process)"
        " per request; added = the harness's minus bare Locust's"
    )
    shares = ", ".join(f"{w} worker(s) {us:.1f}" for w, us in zip(WORKERS, own, strict=True))
    print(f"  of which the harness process itself (the driver), us/req: {shares}")
    return 0


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--host", default="http://127.0.0.1:8080", help="loopback only (default: the gateway)"
    )
    parser.add_argument("--path", default="/health")
    parser.add_argument("--seconds", type=float, default=20.0, help=f"per load, at most {MAX_SECONDS:g}")
    parser.add_argument("--users", type=int, default=16, help=f"{max(WORKERS)} to {MAX_USERS}")
    parser.add_argument("--up", action="store_true", help="bring the reference stack up if nothing answers")
    parser.add_argument("--self-test", action="store_true", help="against a loopback server of its own")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    problem = ""
    if not 0 < args.seconds <= MAX_SECONDS:
        problem = f"--seconds {args.seconds:g}: from more than 0 to {MAX_SECONDS:g}"
    elif not max(WORKERS) <= args.users <= MAX_USERS:
        problem = f"--users {args.users}: from {max(WORKERS)} (one per worker at least) to {MAX_USERS}"
    elif not args.path.startswith("/"):
        problem = f"--path {args.path!r}: a path starting with '/'"
    return args, problem


def main(argv: Sequence[str]) -> int:
    args, problem = parse(argv)
    if args.serve:
        serve()
        return 0
    if problem:
        print(f"load_bench: {problem}", file=sys.stderr)
        return 2
    server, down = None, None
    try:
        host = args.host
        if args.self_test:
            server, host = _start_server()
        elif args.up:
            check_loopback(host)  # before the probe's request
            down = _up_unless_answering(f"{host.rstrip('/')}{args.path}")
        exclude = (server.pid,) if server else ()
        return run(Options(host, args.path, args.seconds, args.users, exclude), args.self_test)
    except HarnessError as exc:
        print(f"load_bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if down is not None:
            down()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
