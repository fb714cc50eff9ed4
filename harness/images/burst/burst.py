"""A bounded burst of HTTP POSTs at one service, and proof that it took effect (standard library only).

Run by the harness in a short-lived container on one of the stack's own networks (harness/faults/burst.py):

    python3 burst.py '<plan as JSON>'

The plan: ``host`` (an address on a private network: anything else is refused), ``port``, ``path``,
``bodies`` (JSON objects, sent in turn; ``{n}`` in one is the request's number), ``distinct`` (optional:
request n is sent as request n mod ``distinct`` is, so only that many bodies are sent, again and again),
``concurrency`` (requests at once), ``requests`` (in all),
``timeout`` (seconds per request), ``duration`` (seconds: no request starts after it), ``backoff`` (seconds
a worker waits after a refusal or an error, as a client told "busy, try again" does), ``proof`` (gauges of
the target's ``/metrics`` whose sum must rise by ``rise``), or instead ``counter`` (a counter of the requests
the target received: it must rise by at least every request answered, and those be ``rise`` at least),
``proof_port`` (where ``/metrics`` is read; default ``port``).

Prints one JSON object per line: ``baseline`` (the gauges' lowest sum over a second before the burst, or
the counter just before it), ``rose`` (once, when the proof held: the burst took effect), ``done`` (what was
sent and answered). Exit 0 when done, 2 on a bad plan, 3 when ``/metrics`` cannot be read (nothing is sent:
it could not be proven).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import sys
import threading
import time

POLL_S = 0.25
BASELINE_READS = 4


def say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def proof_port(plan: dict) -> int:
    return plan.get("proof_port") or plan["port"]


def gauges(plan: dict, names: list[str], required: bool = False) -> float | None:
    """The sum of the named series (gauges, or a counter) in the target's Prometheus text, or None when it
    cannot be read, or when ``required`` and none of them is there (a counter read as 0 would hide a wrong
    name or port until the whole burst was sent)."""
    try:
        connection = http.client.HTTPConnection(plan["host"], proof_port(plan), timeout=2)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode(errors="replace")
        connection.close()
    except (OSError, http.client.HTTPException):
        return None
    total, found = 0.0, 0
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in names:
            try:
                total += float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
            found += 1
    return None if required and not found else total


def baseline(plan: dict, names: list[str]) -> float | None:
    """The gauges' lowest sum over a second before the burst: one read may catch a passing spike of the
    steady load, which would put the rise out of reach."""
    reads = []
    for _ in range(BASELINE_READS):
        reads.append(gauges(plan, names))
        time.sleep(POLL_S)
    found = [r for r in reads if r is not None]
    return min(found) if found else None


def body(plan: dict, index: int) -> bytes:
    """Request ``index``'s body: with ``distinct``, that of request ``index mod distinct``, so the model and
    the input repeat together (a cache keyed on both can hit); without it, a fresh input each."""
    bodies, distinct = plan["bodies"], plan.get("distinct")
    number = index % distinct if distinct else index
    return json.dumps(bodies[number % len(bodies)]).replace("{n}", str(number)).encode()


def took_effect(plan: dict, before: float, now: float, answered: int) -> bool:
    """Gauges: their sum rose by ``rise``. A counter: it rose by at least the requests answered (read before
    it), and those are ``rise`` at least: other clients' requests only add to it, so it falls short only when
    the target did not count the burst's."""
    if plan.get("counter"):
        return answered >= plan.get("rise", 1) and now - before >= answered
    return now >= before + plan.get("rise", 1)


class Burst:
    """Workers share one counter: at most ``requests`` in all, none started after the deadline."""

    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.lock = threading.Lock()
        self.sent = 0
        self.statuses: dict[str, int] = {}
        self.errors = 0
        self.deadline = time.monotonic() + plan["duration"]

    def _next(self) -> int | None:
        with self.lock:
            if self.sent >= self.plan["requests"] or time.monotonic() >= self.deadline:
                return None
            self.sent += 1
            return self.sent - 1

    def answered(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def _count(self, outcome: str) -> None:
        with self.lock:
            if outcome == "error":
                self.errors += 1
            else:
                self.statuses[outcome] = self.statuses.get(outcome, 0) + 1

    def worker(self) -> None:
        plan = self.plan
        while (index := self._next()) is not None:
            try:
                connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=plan["timeout"])
                connection.request(
                    "POST", plan["path"], body(plan, index), {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                connection.close()
                outcome = str(response.status)
            except (OSError, http.client.HTTPException):
                outcome = "error"
            self._count(outcome)
            if outcome == "error" or outcome.startswith("5"):
                time.sleep(plan.get("backoff", 0))


def refusal(plan: dict) -> str | None:
    """Why the plan cannot run, or None."""
    try:
        address = ipaddress.ip_address(plan["host"])
        numbers = [plan[k] for k in ("port", "concurrency", "requests", "timeout", "duration")]
        bodies, path = plan["bodies"], plan["path"]
    except (KeyError, TypeError, ValueError) as exc:
        return f"bad plan: {exc!r}"
    if not (address.is_private or address.is_loopback):
        return f"refusing {address}: the burst goes to the stack's own networks only"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in numbers):
        return "port, concurrency, requests, timeout and duration must be positive numbers"
    if not isinstance(bodies, list) or not bodies or not isinstance(path, str) or not path.startswith("/"):
        return "bodies must be a non-empty list and path must start with /"
    distinct = plan.get("distinct")
    if distinct is not None and (isinstance(distinct, bool) or not isinstance(distinct, int) or distinct < 1):
        return "distinct must be a whole number of at least 1"
    port, counter = plan.get("proof_port"), plan.get("counter")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        return "proof_port must be a port number"
    if counter is not None and (not isinstance(counter, str) or not counter):
        return "counter must be a metric name"
    return None


def main(argv: list[str]) -> int:
    try:
        plan = json.loads(argv[1])
    except (IndexError, ValueError) as exc:
        say("refused", reason=f"expected one JSON plan argument: {exc}")
        return 2
    reason = refusal(plan)
    if reason:
        say("refused", reason=reason)
        return 2
    counter, started = plan.get("counter"), time.monotonic()
    names = [counter] if counter else list(plan.get("proof") or [])
    # A counter only grows: its last value before the burst is the baseline, not the lowest of a second.
    before = (gauges(plan, names, required=True) if counter else baseline(plan, names)) if names else None
    if names and before is None:  # the burst could never be proven: do not send it
        what = f"{counter} from /metrics" if counter else "/metrics"
        say("refused", reason=f"cannot read {what} on {plan['host']}:{proof_port(plan)}")
        return 3
    say("baseline", value=before)
    burst = Burst(plan)
    workers = [threading.Thread(target=burst.worker, daemon=True) for _ in range(int(plan["concurrency"]))]
    for thread in workers:
        thread.start()
    peak, rose, running = before, False, True
    while running:
        running = any(t.is_alive() for t in workers)
        if not running and not counter:
            break  # gauges show a burst only while it runs; a counter keeps its count, read once more
        answered = burst.answered()  # before the read: every request it counts is in the counter by then
        now = gauges(plan, names, required=bool(counter)) if names else None
        if now is not None:
            peak = now if peak is None else max(peak, now)
            if not rose and before is not None and took_effect(plan, before, now, answered):
                rose = True
                after_s = round(time.monotonic() - started, 2)
                say("rose", before=before, value=now, answered=answered, after_s=after_s)
        if running:
            time.sleep(POLL_S)
    for thread in workers:
        thread.join(plan["timeout"])
    say(
        "done",
        sent=burst.sent,
        statuses=burst.statuses,
        errors=burst.errors,
        baseline=before,
        peak=peak,
        rose=rose,
        seconds=round(time.monotonic() - started, 2),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
