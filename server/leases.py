"""Leases on the event log's consumers: one process at a time advances a consumer.

A lease is a row of ``event_consumers`` (owner, until). A free or run-out lease is
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (plain on SQLite, one process), so
two claimers never both win; the holder renews it while it works and gives it back
on shutdown. A process that saw another's lease asks again a second later at most.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from server.rewards.events import ConsumerState

__all__ = ["Leases"]

_RECHECK_SECONDS = 1.0
_log = logging.getLogger("laurel.leases")


def _now() -> datetime:
    return datetime.now(UTC)


class Leases:
    """The leases one process holds, and what it knows of the others'."""

    def __init__(self, owner: str, lease_seconds: float) -> None:
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._held: dict[str, float] = {}  # consumer -> monotonic time its lease runs out
        self._others: dict[str, float] = {}  # consumer -> when another's lease runs out
        self._known: set[str] = set()  # consumers whose row exists
        # The rows of leases held, as this process last wrote them: while it holds the
        # lease nobody else moves the cursor, and ``EventLog`` moves it only if the row
        # still holds the position read (so a reset row is read again, not overwritten).
        self._rows: dict[str, ConsumerState] = {}

    def lost(self, name: str) -> None:
        """The lease is gone (taken over, or the row reset): claim it again next time."""
        self._held.pop(name, None)
        self._rows.pop(name, None)

    def forget(self, name: str) -> None:
        """The row changed in a way this process did not keep: read it again next time."""
        self._rows.pop(name, None)

    def moved(self, row: ConsumerState, position: int, gaps: list[list[float]]) -> None:
        """The cursor was moved (and the backoff cleared) as ``row`` says now."""
        row.position, row.gaps, row.failures, row.retry_at = position, gaps, 0, None
        self._rows[row.name] = row

    async def claimed(self, name: str) -> ConsumerState | None:
        """The consumer's row if this process holds its lease (claiming it if free)."""
        for _ in (1, 2):
            if not await self._hold(name):
                return None
            if (known := self._rows.get(name)) is not None:
                return known
            row = await ConsumerState.get_or_none(name=name)
            if row is not None and row.lease_owner == self.owner:
                return row
            self.lost(name)  # the row was reset or taken over: claim again
        return None

    async def _hold(self, name: str) -> bool:
        """Keep or claim the consumer's lease; a free or run-out lease is taken with
        ``SELECT ... FOR UPDATE SKIP LOCKED``, so two claimers never both win."""
        margin = self.lease_seconds / 3
        clock = time.monotonic()
        if self._held.get(name, 0.0) - clock > margin:
            return True
        if self._others.get(name, 0.0) > clock:
            return False  # another process holds it: asked again within a second
        if name not in self._known:
            await ConsumerState.get_or_create(name=name)
            self._known.add(name)
        now = _now()
        try:
            return await self._claim(name, clock, now)
        except OperationalError as exc:  # SQLite: another process is writing right now
            _log.debug("lease %s not claimed: %s", name, exc)
            return False

    async def _claim(self, name: str, clock: float, now: datetime) -> bool:
        async with in_transaction():
            row = await ConsumerState.filter(name=name).select_for_update(skip_locked=True).first()
            if row is None:
                self._known.discard(name)  # being claimed right now, or gone
                return False
            mine = row.lease_owner == self.owner
            if row.lease_until is not None and row.lease_until > now and not mine:
                self._held.pop(name, None)
                # Ask again in a second at most: a holder that shuts down gives it back.
                left = (row.lease_until - now).total_seconds()
                self._others[name] = clock + min(left, _RECHECK_SECONDS)
                return False
            await ConsumerState.filter(name=name).update(
                lease_owner=self.owner, lease_until=now + timedelta(seconds=self.lease_seconds)
            )
        self._held[name] = clock + self.lease_seconds
        return True

    async def release(self) -> None:
        """Give the leases back (shutdown), so another worker takes over at once."""
        if not self._held:
            return
        with contextlib.suppress(Exception):
            await ConsumerState.filter(name__in=list(self._held), lease_owner=self.owner).update(
                lease_owner=None, lease_until=None
            )
        self._held.clear()
