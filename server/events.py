"""Consumers of the domain event log (``server.rewards.events``): durable cursors,
leases between worker processes, retries with backoff, and the live-badge channel.

Each consumer reads the log in id order from its cursor and hands each batch to its
handler; the cursor moves only once the handler returned, so every event is handled
at least once and handlers are idempotent. One process at a time holds a consumer's
lease (claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, renewed while it works,
released on shutdown); another takes over once a lease runs out, so a killed worker's
consumers carry on elsewhere within ``lease_seconds``.

On PostgreSQL ids are handed out before commit, so an event can become visible after
one with a higher id. A consumer remembers the ids it passed that were missing (gaps)
and handles them when they appear; one still missing after ``GAP_SECONDS`` belonged
to a transaction that rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leaderboards import Leaderboards, listen, publish
from server.event_status import ConsumerStatus, consumer_status
from server.leases import Leases
from server.rewards.events import ConsumerState, Event, EventType, recorded_types

__all__ = [
    "BOARDS",
    "EFFECTS",
    "GAP_SECONDS",
    "HOOKS",
    "LIVE",
    "LIVE_MAX_AGE",
    "WEBHOOKS",
    "Consumer",
    "ConsumerStatus",
    "EventLog",
]

# The consumers Laurel runs (``server.actions.consumers``).
BOARDS = "boards"  # the board projector: points events -> Redis boards
EFFECTS = "effects"  # the badge granter and tier tracker
LIVE = "live"  # live notifications (granted badges) through Redis pub/sub
HOOKS = "hooks"  # shop webhook deliveries not applied by the worker that took them
WEBHOOKS = "webhooks"  # outgoing webhook messages made from events
LIVE_MAX_AGE = timedelta(minutes=10)  # an older notification is not worth a push

_log = logging.getLogger("laurel.events")

# A missing id older than this belonged to a transaction that rolled back.
GAP_SECONDS = 120.0
_MAX_GAPS_PER_BATCH = 10_000  # a jump of the id sequence (after a crash) is no gap
_MAX_BACKOFF = 10.0
Handler = Callable[[Sequence[Event]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Consumer:
    """One reader of the log. ``types`` filters what the handler sees (the cursor still
    moves past the rest); ``grace`` leaves events that young to the request that made
    them; ``inline`` consumers also run right after a commit in the committing process;
    ``ready`` may hold a pass back (e.g. while the boards are rebuilt)."""

    name: str
    handle: Handler
    types: frozenset[EventType]
    grace: float = 0.0
    inline: bool = False
    ready: Callable[[bool], Awaitable[bool]] | None = None
    batch: int = 500


def _now() -> datetime:
    """Leases and ages use the wall clock, never the use cases' (movable) clock."""
    return datetime.now(UTC)


class EventLog:
    """One per process: runs the consumers it was given and fans out live badges."""

    def __init__(
        self,
        boards: Leaderboards | None,
        *,
        owner: str | None = None,
        lease_seconds: float = 15.0,
        poll: float = 0.25,
        timeout: float = 2.0,
        gather: float = 0.1,
    ) -> None:
        self.boards = boards
        self.owner = owner or f"{socket.gethostname()}:{secrets.token_hex(4)}"
        self.lease_seconds = lease_seconds
        self.poll = poll
        self.timeout = timeout
        self.gather = gather
        self.consumers: dict[str, Consumer] = {}
        self.leases = Leases(self.owner, lease_seconds)
        self._locks: dict[str, asyncio.Lock] = {}
        self._passes: dict[str, int] = {}  # passes begun per consumer, for ``committed``
        self._wake = asyncio.Event()
        self._stopping = False
        # Test-only: a file to create, then wait forever, right after a commit.
        self.pause_after_commit: str | None = None

    def install(self, consumers: Iterable[Consumer]) -> None:
        for consumer in consumers:
            self.consumers[consumer.name] = consumer
            self._locks[consumer.name] = asyncio.Lock()
            self._passes[consumer.name] = 0

    async def committed(self) -> None:
        """After a commit: run the inline consumers now (boards and live updates move
        before the answer), and wake the background loop for the rest. Never raises:
        whatever fails here waits in the log."""
        if self.pause_after_commit:
            await asyncio.to_thread(Path(self.pause_after_commit).touch)
            await asyncio.Event().wait()  # until the fault test kills this process
        made = recorded_types()
        for consumer in self.consumers.values():
            if not consumer.inline or (made is not None and not made & consumer.types):
                continue  # nothing this request appended is for it: the loop moves it on
            try:
                async with asyncio.timeout(self.timeout):
                    await self._cover(consumer.name)
            except Exception as exc:
                _log.warning("%s deferred to the log: %s", consumer.name, exc)
        self.wake()

    def wake(self) -> None:
        """Let the background loop look at the log now."""
        self._wake.set()

    async def drain(self, names: Iterable[str] | None = None, *, grace: bool = True) -> int:
        """Handle everything the named consumers (all by default) can handle now;
        return how many events they passed. For jobs and tests: ``grace=False`` also
        takes the youngest events and does not wait out a backoff."""
        total = 0
        for name in list(names or self.consumers):
            while moved := await self.step(name, grace=grace):
                total += moved
        return total

    def stop(self) -> None:
        """End ``run_forever`` after the pass it is in (shutdown)."""
        self._stopping = True
        self.wake()

    async def run_forever(self) -> None:
        """Background task: every consumer, again and again, until ``stop``. A pass that
        found events is followed by a pause of ``gather`` seconds, so that under load a
        pass takes what many requests appended (each pass costs each consumer a read of
        the log and a write of its cursor); a quiet log is looked at when woken."""
        self._stopping = False
        while not self._stopping:
            busy = False
            for name in self.consumers:
                try:
                    busy |= await self.step(name) > 0
                except Exception:
                    _log.exception("consumer %s failed", name)
            if busy:
                await asyncio.sleep(self.gather)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            self._wake.clear()

    async def release(self) -> None:
        """Give the leases back (shutdown), so another worker takes over at once."""
        await self.leases.release()

    async def _cover(self, name: str) -> None:
        """An inline pass that sees this request's commit. Concurrent requests share one:
        a pass that began after the commit (while this one waited for the lock) saw it."""
        arrived = self._passes[name]
        async with self._locks[name]:
            if self._passes[name] == arrived:
                await self._step(name, inline=True, grace=True)

    async def step(self, name: str, *, inline: bool = False, grace: bool = True) -> int:
        """One batch of one consumer, if this process holds (or gets) its lease; the
        number of events the cursor passed."""
        async with self._locks[name]:
            return await self._step(name, inline=inline, grace=grace)

    async def _step(self, name: str, *, inline: bool, grace: bool) -> int:
        consumer = self.consumers[name]
        self._passes[name] += 1
        row = await self.leases.claimed(name)
        if row is None:
            return 0
        if consumer.ready is not None:
            if not await consumer.ready(inline):
                return 0
            if not inline:  # a background ready() may have rebuilt and moved the state
                row = await ConsumerState.get(name=name)
        if grace and row.retry_at is not None and row.retry_at > _now():
            return 0  # backing off: requests stay fast while, say, Redis is down
        return await self._batch(consumer, row, grace)

    async def _batch(self, consumer: Consumer, row: ConsumerState, grace: bool) -> int:
        now = time.time()
        gaps = {int(i): float(t) for i, t in row.gaps if now - float(t) < GAP_SECONDS}
        fresh = await Event.filter(id__gt=row.position).order_by("id").limit(consumer.batch)
        late = await Event.filter(id__in=list(gaps)).order_by("id") if gaps else []
        if grace and consumer.grace:
            cutoff = _now() - timedelta(seconds=consumer.grace)
            young = next((i for i, e in enumerate(fresh) if e.created_at > cutoff), None)
            fresh = fresh if young is None else fresh[:young]
            late = [e for e in late if e.created_at <= cutoff]
        if not fresh and not late:
            if len(gaps) != len(row.gaps):
                await self._advance(row, row.position, gaps)
            return 0
        position = fresh[-1].id if fresh else row.position
        seen = {e.id for e in fresh}
        # A consumer's first batch starts at the first event there is (ids below it
        # were never ours to wait for); later, every id skipped may still commit.
        since = row.position if row.position or not fresh else fresh[0].id
        if position - since - len(seen) <= _MAX_GAPS_PER_BATCH:
            for missing in range(since + 1, position):
                if missing not in seen:
                    gaps[missing] = now
        for event in late:
            gaps.pop(event.id, None)
        todo = sorted((e for e in [*late, *fresh] if e.type in consumer.types), key=_id)
        try:
            if todo:
                await consumer.handle(todo)
        except Exception as exc:
            await self._failed(row, exc)
            return 0
        await self._advance(row, position, gaps)
        return len(fresh) + len(late)

    async def _advance(self, row: ConsumerState, position: int, gaps: dict[int, float]) -> None:
        """Move the cursor if this process holds the lease and the row is as it read it."""
        held = ConsumerState.filter(name=row.name, lease_owner=self.owner, position=row.position)
        kept: list[list[float]] = [[i, t] for i, t in sorted(gaps.items())]
        moved = await held.update(
            position=position, gaps=kept, failures=0, retry_at=None, last_error=None,
            updated_at=_now(),
        )  # fmt: skip
        if moved:
            self.leases.moved(row, position, kept)
        else:
            self.leases.lost(row.name)  # another worker took over; it redoes the batch

    async def _failed(self, row: ConsumerState, exc: Exception) -> None:
        self.leases.forget(row.name)  # its backoff is written below: read the row again
        failures = row.failures + 1
        wait = min(_MAX_BACKOFF, 0.25 * 2**failures)
        _log.warning("consumer %s failed (%d in a row), retry in %.1f s", row.name, failures, wait)
        with contextlib.suppress(Exception):
            await ConsumerState.filter(name=row.name, lease_owner=self.owner).update(
                failures=failures,
                retry_at=_now() + timedelta(seconds=wait),
                last_error=f"{type(exc).__name__}: {exc}"[:500],
                updated_at=_now(),
            )

    async def status(self) -> list[ConsumerStatus]:
        """Each consumer's cursor, lag, failures and lease holder."""
        return await consumer_status(list(self.consumers))

    # Live badge notifications: published by the live consumer, heard by every worker.

    @staticmethod
    def _badge_channel(member_id: int) -> str:
        return f"laurel:events:badges:{member_id}"

    async def publish_badge(self, member_id: int, award_id: int) -> None:
        """Tell every worker (and so every subscriber) about a granted level."""
        if self.boards is None:
            return
        message = json.dumps({"award": award_id})
        await publish(self.boards.redis, self._badge_channel(member_id), message)  # or raise

    async def badge_awards(self, member_id: int) -> AsyncIterator[int | None]:
        """Award ids granted to ``member_id`` from now on, from any worker; ``None`` after
        a Redis outage, during which some may have gone unheard."""
        if self.boards is None:
            return
        async for message in listen(self.boards.redis, self._badge_channel(member_id)):
            yield None if message is None else int(json.loads(message)["award"])


def _id(event: Event) -> int:
    return int(event.id)
