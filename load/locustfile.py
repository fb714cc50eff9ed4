"""Steady load on a SutazAI-style gateway (the reference stack's slas.yaml names it in load.locustfile):
agents' tasks, async tasks and health checks.

Runs standalone::

    locust -f load/locustfile.py --headless -u 5 -t 10s --host http://127.0.0.1:8080

and under the harness (harness.load.LocustLoad), which passes the options harnessuser.py reads.

Requests (the Locust ``name`` of each, through the gateway's /api/<agent>/... routes), by weight:

    4  "orchestrator task"     POST /api/orchestrator/task        {"input": ...}
    2  "summarizer task"       POST /api/summarizer/task          {"input": ..., "model": "tinyllama"}
    2  "indexer task"          POST /api/indexer/task
    2  "orchestrator async"    POST /api/orchestrator/task/async
    1  "orchestrator health"   GET  /api/orchestrator/health      (each agent's /health)
    1  "summarizer health"     GET  /api/summarizer/health
    1  "indexer health"        GET  /api/indexer/health
    3  "search task"           POST /api/search/task              (agent-search: two replicas, round robin)

The orchestrator's async tasks are of both priority classes (rule 3.3): 30% priority 8, the rest 2. Of
the low ones, 10% of all tasks carry a 5 s time to live in the queue (``ttl_ms``: they expire only when the
queue backs up) and 5% are marked poison (``poison:`` input, which the consumer rejects): what reaches the
dead-letter queue.
The summarizer's tasks name a model, so that agent holds one in its model pool: what its hibernation must
release (rule 6.4). Every request carries a fresh X-Trace-ID. The options, the pacing and what is reported: harnessuser.py.
"""

from __future__ import annotations

import random
import secrets

from harnessuser import HarnessUser
from locust import task


class GatewayUser(HarnessUser):
    """One client of the gateway."""

    def _post(self, path: str, name: str, model: str | None = None) -> None:
        body = {"input": f"load {secrets.token_hex(4)}"} | ({"model": model} if model else {})
        self.client.post(path, json=body, headers=self.trace_headers(), name=name)

    def _task(self, agent: str, model: str | None = None) -> None:
        self._post(f"/api/{agent}/task", f"{agent} task", model)

    def _health(self, agent: str) -> None:
        self.client.get(f"/api/{agent}/health", headers=self.trace_headers(), name=f"{agent} health")

    @task(4)
    def orchestrator_task(self) -> None:
        self._task("orchestrator")

    @task(2)
    def summarizer_task(self) -> None:
        self._task("summarizer", model="tinyllama")

    @task(2)
    def indexer_task(self) -> None:
        self._task("indexer")

    @task(2)
    def orchestrator_async(self) -> None:
        draw = random.random()
        body: dict[str, object] = {
            "input": f"load {secrets.token_hex(4)}",
            "priority": 8 if draw < 0.3 else 2,
        }
        if 0.3 <= draw < 0.4:
            body["ttl_ms"] = 5000
        elif 0.4 <= draw < 0.45:
            body["input"] = f"poison: load {secrets.token_hex(4)}"
        self.client.post(
            "/api/orchestrator/task/async", json=body, headers=self.trace_headers(), name="orchestrator async"
        )

    @task(3)
    def search_task(self) -> None:
        self._task("search")

    @task(1)
    def orchestrator_health(self) -> None:
        self._health("orchestrator")

    @task(1)
    def summarizer_health(self) -> None:
        self._health("summarizer")

    @task(1)
    def indexer_health(self) -> None:
        self._health("indexer")
