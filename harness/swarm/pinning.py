"""What Swarm cannot set on a task's container, set by ``docker update`` as the container is created:
the compose ``cpuset`` (``stack deploy`` refuses the key) and the memory reservation (Swarm's is a
scheduling reservation only: its containers have no ``MemoryReservation``, the soft limit Compose
``--compatibility`` gives them and rule 1.1 asks for).

The pinner follows the engine's ``create`` events of the project's containers (and ``start``, in case an
update came too early) and updates each as soon as Swarm has created it, before it starts. Measured on the
reference stack with ``start`` alone: a replaced redis task was seen unpinned by the stack's exporter
(it lists created containers too, every second) before the update, and rule 1.2's analyzer failed it. From
``create`` the window is the update's own tens of milliseconds; the health gates update again
(``SwarmStack.pin``) in case an event was missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
import requests

from harness.containers import PROJECT_LABEL, SERVICE_LABEL

DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)


class Pinner:
    def __init__(
        self,
        client: Any,
        project: str,
        settings: Callable[[], Mapping[str, Mapping[str, Any]]],
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.client = client
        self.project = project
        self.settings = settings
        """Service -> its ``Container.update`` options (``cpuset_cpus``, ``mem_reservation``)."""
        self.say = say
        self.pinned: list[tuple[str, str]] = []
        """(service, action) of each update made."""
        self._stream: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        filters = {
            "type": "container",
            "event": ["create", "start"],
            "label": f"{PROJECT_LABEL}={self.project}",
        }
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
        options = self.settings().get(service or "")
        if not service or not options:
            return
        try:
            self.client.containers.get(str(actor.get("ID"))).update(**options)
            self.pinned.append((service, str(event.get("Action"))))
        except docker.errors.NotFound:
            return  # gone already: a crash loop's victim
        except DOCKER_ERRORS as exc:
            self.say(f"{options} not applied to a new container of {service}: {exc}")

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
