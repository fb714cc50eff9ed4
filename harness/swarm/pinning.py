"""Compose ``cpuset`` for Swarm tasks, which Swarm cannot set (``stack deploy`` refuses the key).

A task Swarm starts gets no cpuset: the pinner follows the engine's ``start`` events of the project's
containers and gives each the cpuset its service's compose definition asks for (``docker update
--cpuset-cpus``) as soon as it starts, tens of milliseconds later, so a replaced task runs on its tier's
cores as the old one did. A window of that length remains in which the new container runs unpinned; the
health gates pin again (``SwarmStack.pin``) in case an event was missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
import requests

from harness.stack import PROJECT_LABEL, SERVICE_LABEL

DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)


class Pinner:
    def __init__(
        self,
        client: Any,
        project: str,
        cpusets: Callable[[], Mapping[str, str]],
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.client = client
        self.project = project
        self.cpusets = cpusets
        self.say = say
        self.pinned: list[tuple[str, str]] = []
        self._stream: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        filters = {"type": "container", "event": "start", "label": f"{PROJECT_LABEL}={self.project}"}
        self._stream = self.client.events(decode=True, filters=filters)  # subscribed when this returns
        self._thread = threading.Thread(target=self._follow, name=f"swarm-pinner-{self.project}", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                self.observe(event)
        except DOCKER_ERRORS as exc:
            self.say(f"cpuset pinner stopped: {exc} (the health gates still pin)")

    def observe(self, event: Mapping[str, Any]) -> None:
        actor = event.get("Actor") or {}
        service = (actor.get("Attributes") or {}).get(SERVICE_LABEL)
        cpuset = self.cpusets().get(service or "")
        if not service or cpuset is None:
            return
        try:
            self.client.containers.get(str(actor.get("ID"))).update(cpuset_cpus=cpuset)
            self.pinned.append((service, cpuset))
        except docker.errors.NotFound:
            return  # gone already: a crash loop's victim
        except DOCKER_ERRORS as exc:
            self.say(f"cpuset {cpuset} not applied to a new container of {service}: {exc}")

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
