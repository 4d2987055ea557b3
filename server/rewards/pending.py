"""Pending points: credits that become spendable later (return window, moderation).

A pending credit is released by one RELEASE entry keyed ``release:<entry id>``,
unique in SQL and written under the member's row lock, so a request and
``laurel release-pending`` racing each other release it once and neither fails.
What a refund took from pending is not released (it is summed from the entries
that point at the credit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.rewards.activities import Activity, ActivityStatus
from server.rewards.events import EventType, record_activity
from server.rewards.ledger import EntryKind, LedgerEntry
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post

__all__ = [
    "members_with_due_points",
    "release_credit",
    "release_due",
    "released_key",
    "remaining_pending",
]


def released_key(entry_id: int) -> str:
    """The idempotency key of the release of pending entry ``entry_id``: one per entry."""
    return f"release:{entry_id}"


async def remaining_pending(entry_ids: list[int]) -> dict[int, int]:
    """Points still pending of each credit: its own minus what releases and refunds took."""
    if not entry_ids:
        return {}
    remaining = dict(await LedgerEntry.filter(id__in=entry_ids).values_list("id", "pending_delta"))
    linked = await LedgerEntry.filter(source_entry_id__in=entry_ids).values_list(
        "source_entry_id", "pending_delta"
    )
    for source, delta in linked:
        remaining[source] += delta
    return {int(k): int(v) for k, v in remaining.items()}


async def release_due(member_id: int, now: datetime, *, keep_for: timedelta | None = None) -> int:
    """Make a member's due pending credits spendable; return the points released.

    ``keep_for`` is how long released points stay spendable before they expire.
    """
    due = dict(
        await LedgerEntry.filter(
            member_id=member_id, pending_delta__gt=0, available_at__lte=now
        ).values_list("id", "activity_id")
    )
    still = await remaining_pending(list(due))
    released = 0
    for entry_id, points in still.items():
        if points > 0:
            released += await release_credit(
                member_id, entry_id, due[entry_id], now=now, keep_for=keep_for
            )
    await _refresh_next_release(member_id)
    return released


async def release_credit(
    member_id: int,
    entry_id: int,
    activity_id: int | None,
    *,
    now: datetime,
    keep_for: timedelta | None,
    actor: str = "system",
    reason: str = "Pending points are now spendable",
) -> int:
    """Release what is left pending of one credit, under the member's row lock.

    Used when a return window ends and when a moderator approves. A credit that
    did not count as earned while pending (awaiting moderation) counts now.
    The lock orders concurrent releases of one credit (the later one finds
    nothing left); the unique key still guards the insert.
    """
    try:
        async with in_transaction():
            member = await lock_member(member_id)
            original = await LedgerEntry.get(id=entry_id)
            remaining = (await remaining_pending([entry_id])).get(entry_id, 0)
            if remaining <= 0:
                return 0
            await post(
                Posting(
                    member_id=member_id,
                    kind=EntryKind.RELEASE,
                    amount=0,
                    pending_delta=-remaining,
                    lifetime_delta=0 if original.lifetime_delta else remaining,
                    reason=reason,
                    actor=actor,
                    idempotency_key=released_key(entry_id),
                    request_hash="",
                    activity_id=activity_id,
                    source_entry_id=entry_id,
                    # Points last from when they were due, however late the release runs.
                    expires_at=(original.available_at or now) + keep_for if keep_for else None,
                ),
                community=member.community,
                now=now,
            )
            if activity_id is not None:
                approved = await Activity.filter(
                    id=activity_id, status=ActivityStatus.PENDING
                ).update(status=ActivityStatus.APPROVED, points=F("points") + remaining)
                if approved:
                    activity = await Activity.get(id=activity_id)
                    await record_activity(EventType.ACTIVITY_APPROVED, activity)
    except IntegrityError:
        return 0  # released by a concurrent caller
    return remaining


async def _refresh_next_release(member_id: int) -> None:
    """Recompute ``next_release_at`` under the member's row lock.

    The lock orders this after any posting in flight, so a pending credit
    committed meanwhile is seen and its due moment is not overwritten.
    """
    async with in_transaction():
        await lock_member(member_id)
        pending = dict(
            await LedgerEntry.filter(
                member_id=member_id, pending_delta__gt=0, available_at__isnull=False
            ).values_list("id", "available_at")
        )
        still = await remaining_pending(list(pending))
        open_dates = [pending[entry_id] for entry_id, points in still.items() if points > 0]
        await Member.filter(id=member_id).update(next_release_at=min(open_dates, default=None))


async def members_with_due_points(now: datetime, batch: int = 500) -> list[int]:
    """Members holding a pending credit that is due and not yet released.

    Reads the ledger itself, not ``next_release_at``, so a stale cache cannot
    hide due points from ``laurel release-pending``.
    """
    due = await LedgerEntry.filter(pending_delta__gt=0, available_at__lte=now).values_list(
        "id", "member_id"
    )
    members: set[int] = set()
    for start in range(0, len(due), batch):
        chunk = dict(due[start : start + batch])
        still = await remaining_pending(list(chunk))
        members.update(chunk[entry_id] for entry_id, points in still.items() if points > 0)
    return sorted(members)
