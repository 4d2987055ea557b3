"""Posting to the ledger: the only code that moves a member's balances.

``post`` appends an entry (``server.rewards.ledger``) and moves the cached columns
with one conditional UPDATE in the caller's transaction; the UPDATE also takes the
member's row lock, so concurrent postings for one member serialize on PostgreSQL.
Points made spendable first pay off any debt; ``reversal`` and ``lock_member`` are
what a caller needs to take points back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from server.rewards.errors import InsufficientPoints, Invalid
from server.rewards.events import EventType, moment, record
from server.rewards.ledger import EntryKind, LedgerEntry
from server.rewards.members import Member
from server.rewards.metrics_sql import Sql
from server.rewards.validation import MAX_POINT_TOTAL

__all__ = ["Posting", "lock_member", "post", "reversal"]

_MEMBERS = Member._meta.db_table


# The event each kind of entry appends (an ADJUST below 0 is a reversal).
_EVENT_OF = {
    EntryKind.EARN: EventType.POINTS_CREDITED,
    EntryKind.ADJUST: EventType.POINTS_CREDITED,
    EntryKind.RETURN: EventType.POINTS_CREDITED,
    EntryKind.RELEASE: EventType.POINTS_RELEASED,
    EntryKind.SPEND: EventType.POINTS_SPENT,
    EntryKind.REVERSAL: EventType.POINTS_REVERSED,
    EntryKind.SETTLE: EventType.POINTS_REVERSED,
    EntryKind.EXPIRE: EventType.POINTS_EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Posting:
    """What to append; the amounts are signed."""

    member_id: int
    kind: EntryKind
    amount: int
    reason: str
    actor: str
    idempotency_key: str
    request_hash: str
    pending_delta: int = 0
    lifetime_delta: int = 0
    debt_delta: int = 0
    activity_id: int | None = None
    source_entry_id: int | None = None
    available_at: datetime | None = None
    expires_at: datetime | None = None
    occurred_at: datetime | None = None
    # None: earning and reversals qualify for tiers, adjustments do not.
    qualifying: bool | None = None
    multiplier: Decimal | None = None
    # A credit the caller asked for by amount names its input field: it is refused
    # (``Invalid``) when it would take a total beyond ``MAX_POINT_TOTAL``. Without one, a
    # credit the rules pay (earning, bonuses, prizes) is cut to what still fits.
    field: str | None = None

    @property
    def available_delta(self) -> int:
        return self.amount - self.pending_delta


async def post(posting: Posting, *, community: str | None, now: datetime) -> LedgerEntry:
    """Append ``posting`` and move the member's cached balances atomically.

    Must run inside a transaction. Raises ``InsufficientPoints`` when a debit
    would make the spendable balance (or pending, lifetime or debt) negative;
    the caller's transaction then rolls back and nothing is written. A reused
    idempotency key raises the database's IntegrityError. Points made
    spendable first pay off any debt, by a SETTLE entry in the same transaction.
    """
    for delta in _deltas(posting):
        if delta > MAX_POINT_TOTAL:
            raise _beyond_the_maximum(posting)
    debt = await _move(posting, now)
    if debt is None and posting.field is None and posting.amount > 0:
        fitting = await _fitting(posting)  # a credit the rules pay is cut, not refused
        if fitting is not posting:
            posting, debt = fitting, await _move(fitting, now)
    if debt is None:
        current = await Member.get_or_none(id=posting.member_id)
        if current is not None and any(
            delta > 0 and getattr(current, column) + delta > MAX_POINT_TOTAL
            for column, delta in zip(_COLUMNS, _deltas(posting), strict=True)
        ):
            raise _beyond_the_maximum(posting)
        raise InsufficientPoints(
            balance=current.points_balance if current else 0,
            required=max(0, -posting.available_delta),
        )
    available = posting.available_delta
    entry = await LedgerEntry.create(
        member_id=posting.member_id,
        kind=posting.kind,
        amount=posting.amount,
        pending_delta=posting.pending_delta,
        lifetime_delta=posting.lifetime_delta,
        debt_delta=posting.debt_delta,
        reason=posting.reason,
        actor=posting.actor,
        idempotency_key=posting.idempotency_key,
        request_hash=posting.request_hash,
        activity_id=posting.activity_id,
        source_entry_id=posting.source_entry_id,
        available_at=posting.available_at,
        expires_at=posting.expires_at if available > 0 else None,
        occurred_at=posting.occurred_at or now,
        qualifying=_qualifies(posting),
        multiplier=posting.multiplier,
    )
    await record(
        EventType.POINTS_REVERSED
        if posting.kind is EntryKind.ADJUST and posting.amount < 0
        else _EVENT_OF[posting.kind],
        posting.member_id,
        {
            "entry_id": entry.id,
            "kind": posting.kind.value,
            "amount": posting.amount,
            "pending_delta": posting.pending_delta,
            "lifetime_delta": posting.lifetime_delta,
            "activity_id": posting.activity_id,
            "actor": posting.actor,
            "community": community,
            "occurred_at": moment(posting.occurred_at or now),
        },
    )
    # Points already past their expiry (a late release) pay nothing: they are about to expire.
    if available > 0 and debt > 0 and (posting.expires_at is None or posting.expires_at > now):
        await _settle_debt(entry, min(debt, available), community=community, now=now)
    return entry


_COLUMNS = ("points_balance", "pending_points", "lifetime_points", "debt_points")


def _deltas(posting: Posting) -> tuple[int, int, int, int]:
    """The moves of ``_COLUMNS``."""
    return (
        posting.available_delta,
        posting.pending_delta,
        posting.lifetime_delta,
        posting.debt_delta,
    )


async def _move(posting: Posting, now: datetime) -> int | None:
    """The one conditional UPDATE of a posting: the totals moved unless one would leave
    0 to ``MAX_POINT_TOTAL``, and the next release and expiry kept at the earliest.
    Returns the debt after it, or None when a guard refused (nothing moved).

    Hand-written rather than built by the ORM: it returns the debt (no read after it),
    and on this hot path one statement instead of up to four (decision 0028)."""
    sql = Sql()
    sets = [f"{column} = {column} + ?" for column in _COLUMNS]
    params: list[Any] = list(_deltas(posting))
    earliest = []
    if posting.pending_delta > 0 and posting.available_at is not None:
        earliest.append(("next_release_at", posting.available_at))
    if posting.available_delta > 0 and posting.expires_at is not None:
        earliest.append(("next_expiry_at", posting.expires_at))
    for column, moment_ in earliest:
        sets.append(
            f"{column} = CASE WHEN {column} IS NULL OR {column} > ? THEN ? ELSE {column} END"
        )
        params += [moment_, moment_]
    guards = ["id = ?"]
    params.append(posting.member_id)
    for column, delta in zip(_COLUMNS, _deltas(posting), strict=True):
        if delta < 0:
            guards.append(f"{column} >= ?")
            params.append(-delta)
        elif delta > 0:  # totals are 32-bit GraphQL Ints: refused rather than unreadable
            guards.append(f"{column} <= ?")
            params.append(MAX_POINT_TOTAL - delta)
    # Column names and placeholders only: every value is a bound parameter.
    update = f"UPDATE {_MEMBERS} SET {', '.join(sets)} WHERE {' AND '.join(guards)}"  # noqa: S608
    rows = await sql.rows(f"{update} RETURNING debt_points", params)
    return int(rows[0]["debt_points"]) if rows else None


async def _fitting(posting: Posting) -> Posting:
    """A credit cut so that no total passes ``MAX_POINT_TOTAL`` (its own amount, and the
    pending and lifetime parts of it, by the same number of points)."""
    member = await Member.get_or_none(id=posting.member_id)
    if member is None:
        return posting
    over = (
        max(
            member.points_balance + posting.available_delta,
            member.pending_points + posting.pending_delta,
            member.lifetime_points + posting.lifetime_delta,
        )
        - MAX_POINT_TOTAL
    )
    if over <= 0:
        return posting
    cut = min(over, posting.amount)
    return replace(
        posting,
        amount=posting.amount - cut,
        pending_delta=max(0, posting.pending_delta - cut) if posting.pending_delta > 0 else 0,
        lifetime_delta=max(0, posting.lifetime_delta - cut),
        reason=f"{posting.reason} (cut by {cut} at the {MAX_POINT_TOTAL:,} maximum)"[:500],
    )


def _beyond_the_maximum(posting: Posting) -> Invalid:
    return Invalid(
        posting.field or "amount",
        f"This would take the member's points beyond {MAX_POINT_TOTAL:,}, the most a "
        "balance, lifetime total or board score may hold.",
    )


def _qualifies(posting: Posting) -> bool:
    if posting.qualifying is not None:
        return posting.qualifying
    return posting.kind is not EntryKind.ADJUST and posting.lifetime_delta != 0


async def _settle_debt(
    entry: LedgerEntry, pay: int, *, community: str | None, now: datetime
) -> None:
    await post(
        Posting(
            member_id=entry.member_id,
            kind=EntryKind.SETTLE,
            amount=-pay,
            debt_delta=-pay,
            reason=f"Settles {pay} points owed from an earlier reversal",
            actor="system",
            idempotency_key=f"settle:{entry.id}",
            request_hash="",
            source_entry_id=entry.id,
        ),
        community=community,
        now=now,
    )


def reversal(
    *,
    member: Member,
    points: int,
    from_pending: int,
    lifetime: int,
    reason: str,
    actor: str,
    idempotency_key: str,
    request_hash: str = "",
    activity_id: int | None = None,
    source_entry_id: int | None = None,
) -> Posting:
    """Take back ``points``: ``from_pending`` of them from pending, the rest from the
    spendable balance, and what the balance cannot cover becomes debt.

    ``member`` must be freshly read under its row lock (``lock_member``).
    """
    from_available = min(points - from_pending, member.points_balance)
    # Admin debits also lower lifetime, so it may hold less than the points earned.
    lifetime = min(lifetime, member.lifetime_points)
    return Posting(
        member_id=member.id,
        kind=EntryKind.REVERSAL,
        amount=-(from_pending + from_available),
        pending_delta=-from_pending,
        lifetime_delta=-lifetime,
        debt_delta=points - from_pending - from_available,
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        activity_id=activity_id,
        source_entry_id=source_entry_id,
    )


async def lock_member(member_id: int) -> Member:
    """The member, row-locked until the transaction ends (PostgreSQL; SQLite has one writer).

    A full-row SELECT: Tortoise drops FOR UPDATE from ``values_list`` queries.
    """
    return await Member.select_for_update().get(id=member_id)
