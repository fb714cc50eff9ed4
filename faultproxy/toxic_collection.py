"""The toxics of one proxy and their propagation to its live connections (toxic_collection.go).

Each direction has an ordered chain; the API lists upstream toxics first, then downstream, each in
insertion order. Names are unique across both directions. Every change is applied at once to every
open connection's pipe of that direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from faultproxy import errors, toxics
from faultproxy.link import Link, Pipe
from faultproxy.toxics import Direction, Toxic


class ToxicCollection:
    """The toxic chains of a proxy; ``links`` yields its open connections."""

    def __init__(self, links: Callable[[], Iterable[Link]]) -> None:
        self._links = links
        self._chains: tuple[list[Toxic], list[Toxic]] = ([], [])

    def chain(self, direction: Direction) -> list[Toxic]:
        return list(self._chains[direction])

    def all(self) -> list[Toxic]:
        return [*self._chains[Direction.UPSTREAM], *self._chains[Direction.DOWNSTREAM]]

    def counts(self) -> tuple[int, int]:
        return len(self._chains[0]), len(self._chains[1])

    def names(self) -> set[str]:
        return {toxic.name for toxic in self.all()}

    def get(self, name: str) -> Toxic:
        for toxic in self.all():
            if toxic.name == name:
                return toxic
        raise errors.toxic_not_found()

    def _pipes(self, direction: Direction) -> list[Pipe]:
        return [pipe for link in list(self._links()) if (pipe := link.pipe(direction)) is not None]

    def add_json(self, body: bytes) -> Toxic:
        toxic = toxics.parse_new(body, self.names())
        direction = toxic.direction
        self._chains[direction].append(toxic)
        for pipe in self._pipes(direction):
            pipe.add(toxic)
        return toxic

    def update_json(self, name: str, body: bytes) -> Toxic:
        current = self.get(name)
        updated = toxics.parse_update(body, current)
        chain = self._chains[current.direction]
        chain[chain.index(current)] = updated
        for pipe in self._pipes(current.direction):
            pipe.update(updated)
        return updated

    def remove(self, name: str) -> None:
        toxic = self.get(name)
        self._chains[toxic.direction].remove(toxic)
        for pipe in self._pipes(toxic.direction):
            pipe.remove(name)

    def reset(self) -> None:
        for toxic in self.all():
            self.remove(toxic.name)
