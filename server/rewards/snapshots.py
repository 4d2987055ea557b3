"""The program's configuration as the money path reads it: earning rules, the tier
ladder and the enabled badges (and the shop integrations every incoming webhook is
checked against), kept in this process for at most ``MAX_AGE`` seconds.

Every earning read these rows: three to five statements per request for rows that
change a few times a year. A change made in this process (``update_rule``,
``update_tier``, a badge created or edited, the defaults seeded) drops every
snapshot at once (``changed``); another worker's change is seen within ``MAX_AGE``
(docs/decisions/0028). Admin reads and writes use the tables, never these copies.
The rows handed out are shared: callers read them and must not change or save them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["MAX_AGE", "Snapshot", "changed"]

MAX_AGE = 1.0  # seconds a change made by another worker may take to be seen here

T = TypeVar("T")

_generation = 0  # bumped by every change made in this process


def changed() -> None:
    """The configuration changed here (or the tables were emptied): reload on next use."""
    global _generation
    _generation += 1


class Snapshot(Generic[T]):
    """One value loaded from the database and kept for up to ``MAX_AGE`` seconds."""

    def __init__(self, load: Callable[[], Awaitable[T]]) -> None:
        self._load = load
        self._value: T | None = None
        self._generation = -1
        self._loaded_at = 0.0

    async def get(self) -> T:
        now = time.monotonic()
        if (
            self._value is not None
            and self._generation == _generation
            and now - self._loaded_at < MAX_AGE
        ):
            return self._value
        generation = _generation
        value = await self._load()
        if generation == _generation:  # a change during the load: keep nothing
            self._value, self._generation, self._loaded_at = value, generation, now
        return value
