"""Work done once per contract object (a validator per action, a SQLAlchemy table per table),
not once per call.

Keyed by the objects' identities. Each entry holds its objects, so none of them is freed
and its id reused while the entry lives: a hit is always the very objects it was built from.
Contracts are never changed in place, so an object's identity stands for its content.
Bounded: past ``limit`` entries the memo starts over (a long-lived server that reloads
contracts does not grow without end).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._items: dict[tuple[Hashable, ...], tuple[tuple[object, ...], V]] = {}

    def get(self, objects: tuple[object, ...], build: Callable[[], V], extra: Hashable = None) -> V:
        """The value built from ``objects`` (and the plain value ``extra``), building it once."""
        key = (*map(id, objects), extra)
        hit = self._items.get(key)
        if hit is not None:
            return hit[1]
        value = build()
        if len(self._items) >= self.limit:
            self._items.clear()
        self._items[key] = (objects, value)
        return value
