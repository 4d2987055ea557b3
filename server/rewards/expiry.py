"""Points expiry: spendable points expire a set time after they became spendable.

Spending, reversals and settlements take from the oldest points first (FIFO);
what is left of a credit past its ``expires_at`` expires by one EXPIRE entry
keyed ``expire:<credit id>``, which takes exactly that credit's remainder.
The lots are recomputed from the ledger, so this needs no extra state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from server.rewards.engine import book
from server.rewards.ledger import EntryKind, LedgerEntry
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post

__all__ = ["Lot", "expire_due", "members_with_expired_points", "open_lots"]


@dataclass(slots=True)
class Lot:
    """What is left spendable of one credit."""

    entry_id: int
    points: int
    expires_at: datetime | None


async def open_lots(member_id: int) -> list[Lot]:
    """The member's spendable points by credit, oldest first."""
    rows = (
        await LedgerEntry.filter(member_id=member_id)
        .order_by("id")
        .values_list("id", "kind", "amount", "pending_delta", "expires_at", "source_entry_id")
    )
    lots: list[Lot] = []
    by_id: dict[int, Lot] = {}
    for entry_id, kind, amount, pending, expires_at, source in rows:
        change = Lot(int(entry_id), int(amount) - int(pending), expires_at)
        book(lots, by_id, change.entry_id, change, kind=str(kind), source=source)
    return [lot for lot in lots if lot.points > 0]


async def expire_due(member_id: int, now: datetime) -> int:
    """Expire what is left of every credit past its expiry; return the points expired.

    The member's cached next expiry (kept by every credit) says first, without a lock,
    whether anything is due: most calls (every redemption and refund) find nothing."""
    due = await Member.filter(id=member_id).values_list("next_expiry_at", flat=True)
    if not due or due[0] is None or due[0] > now:  # type: ignore[operator]
        return 0
    expired = 0
    async with in_transaction():
        member = await lock_member(member_id)
        lots = await open_lots(member_id)
        for lot in lots:
            if lot.expires_at is None or lot.expires_at > now:
                continue
            await post(
                Posting(
                    member_id=member_id,
                    kind=EntryKind.EXPIRE,
                    amount=-lot.points,
                    reason=f"{lot.points} points earned before "
                    f"{lot.expires_at:%Y-%m-%d} expired unspent",
                    actor="system",
                    idempotency_key=f"expire:{lot.entry_id}",
                    request_hash="",
                    source_entry_id=lot.entry_id,
                ),
                community=member.community,
                now=now,
            )
            expired += lot.points
        later = [lot.expires_at for lot in lots if lot.expires_at and lot.expires_at > now]
        await Member.filter(id=member_id).update(next_expiry_at=min(later, default=None))
    return expired


async def members_with_expired_points(now: datetime) -> list[int]:
    """Members whose cached next expiry has come (the cache is kept by every credit)."""
    rows = await Member.filter(next_expiry_at__lte=now).values_list("id")
    return sorted(int(row[0]) for row in rows)
