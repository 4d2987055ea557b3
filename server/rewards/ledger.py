"""The points ledger: append-only entries and the only code that moves balances.

Each entry carries three signed deltas:

* ``amount``: change of the member's points held (spendable + pending), what a
  statement shows ("positive credits, negative debits");
* ``pending_delta``: the part of ``amount`` that is pending (a release entry
  moves points from pending to spendable: ``amount`` 0, ``pending_delta`` < 0);
* ``lifetime_delta``: change of points earned and kept (earning and reversals,
  not spending).

So ``points_balance == sum(amount - pending_delta)``, ``pending_points ==
sum(pending_delta)`` and ``lifetime_points == sum(lifetime_delta)``. ``post``
appends an entry and moves the cached columns with one conditional UPDATE in
the caller's transaction; the UPDATE also takes the member's row lock, so
concurrent postings for one member serialize on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.models import Model
from tortoise.transactions import in_transaction

from server.rewards.activities import Activity, ActivityStatus
from server.rewards.errors import InsufficientPoints
from server.rewards.members import Member

__all__ = [
    "BoardUpdate",
    "EntryKind",
    "LedgerEntry",
    "Mismatch",
    "Posting",
    "find_mismatches",
    "lock_member",
    "members_with_due_points",
    "post",
    "release_due",
    "released_key",
]


class EntryKind(StrEnum):
    EARN = "EARN"
    RELEASE = "RELEASE"
    ADJUST = "ADJUST"
    SPEND = "SPEND"
    REVERSAL = "REVERSAL"


class LedgerEntry(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "laurel.Member", related_name="ledger_entries", on_delete=fields.RESTRICT
    )
    member_id: int
    kind = fields.CharEnumField(EntryKind, max_length=16)
    amount = fields.IntField()
    pending_delta = fields.IntField(default=0)
    lifetime_delta = fields.IntField(default=0)
    reason = fields.CharField(max_length=500)
    actor = fields.CharField(max_length=128)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    request_hash = fields.CharField(max_length=64)
    activity: fields.ForeignKeyNullableRelation[Activity] = fields.ForeignKeyField(
        "laurel.Activity", related_name="ledger_entries", null=True, on_delete=fields.RESTRICT
    )
    activity_id: int | None
    # A release or correction points at the entry it settles.
    source_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "laurel.LedgerEntry", related_name="settlements", null=True, on_delete=fields.RESTRICT
    )
    source_entry_id: int | None
    # For a pending credit: when it becomes spendable.
    available_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_entries"
        indexes = (("member_id", "id"), ("available_at",))

    @property
    def is_pending_credit(self) -> bool:
        return self.pending_delta > 0


class BoardUpdate(Model):
    """Outbox: a change of a member's earned points not yet applied to the boards.

    Written in the ledger transaction; applied to Redis after commit and then
    deleted, so nothing is lost while Redis is unreachable.
    """

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    community = fields.CharField(max_length=64, null=True)
    delta = fields.IntField()
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "board_updates"


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
    activity_id: int | None = None
    source_entry_id: int | None = None
    available_at: datetime | None = None
    occurred_at: datetime | None = None


async def post(posting: Posting, *, community: str | None, now: datetime) -> LedgerEntry:
    """Append ``posting`` and move the member's cached balances atomically.

    Must run inside a transaction. Raises ``InsufficientPoints`` when a debit
    would make the spendable balance (or pending, or lifetime) negative; the
    caller's transaction then rolls back and nothing is written. A reused
    idempotency key raises the database's IntegrityError.
    """
    available_delta = posting.amount - posting.pending_delta
    guarded = Member.filter(id=posting.member_id)
    if available_delta < 0:
        guarded = guarded.filter(points_balance__gte=-available_delta)
    if posting.pending_delta < 0:
        guarded = guarded.filter(pending_points__gte=-posting.pending_delta)
    if posting.lifetime_delta < 0:
        guarded = guarded.filter(lifetime_points__gte=-posting.lifetime_delta)
    changes: dict[str, object] = {
        "points_balance": F("points_balance") + available_delta,
        "pending_points": F("pending_points") + posting.pending_delta,
        "lifetime_points": F("lifetime_points") + posting.lifetime_delta,
    }
    if posting.pending_delta > 0 and posting.available_at is not None:
        # Keep the earliest due moment; two updates so both stay conditional.
        await Member.filter(id=posting.member_id, next_release_at__isnull=True).update(
            next_release_at=posting.available_at
        )
        await Member.filter(id=posting.member_id, next_release_at__gt=posting.available_at).update(
            next_release_at=posting.available_at
        )
    if await guarded.update(**changes) != 1:
        current = await Member.get_or_none(id=posting.member_id)
        raise InsufficientPoints(
            balance=current.points_balance if current else 0, required=-available_delta
        )
    entry = await LedgerEntry.create(
        member_id=posting.member_id,
        kind=posting.kind,
        amount=posting.amount,
        pending_delta=posting.pending_delta,
        lifetime_delta=posting.lifetime_delta,
        reason=posting.reason,
        actor=posting.actor,
        idempotency_key=posting.idempotency_key,
        request_hash=posting.request_hash,
        activity_id=posting.activity_id,
        source_entry_id=posting.source_entry_id,
        available_at=posting.available_at,
    )
    if posting.lifetime_delta:
        await BoardUpdate.create(
            member_id=posting.member_id,
            community=community,
            delta=posting.lifetime_delta,
            occurred_at=posting.occurred_at or now,
        )
    return entry


async def lock_member(member_id: int) -> None:
    """Take the member's row lock until the transaction ends (PostgreSQL; SQLite has one writer).

    A full-row SELECT: Tortoise drops FOR UPDATE from ``values_list`` queries.
    """
    await Member.select_for_update().filter(id=member_id).first()


def released_key(entry_id: int) -> str:
    """The idempotency key of the release of pending entry ``entry_id``: one per entry."""
    return f"release:{entry_id}"


async def release_due(member_id: int, now: datetime) -> int:
    """Make a member's due pending credits spendable; return the points released.

    Each pending credit is released by one entry keyed ``release:<id>``, under
    the member's row lock, so a request and ``laurel release-pending`` racing
    each other release it once and neither fails.
    """
    due = await LedgerEntry.filter(
        member_id=member_id, pending_delta__gt=0, available_at__lte=now
    ).values_list("id", "activity_id")
    done = await _released([row[0] for row in due])
    released = 0
    for entry_id, activity_id in due:
        if entry_id not in done:
            released += await _release_one(member_id, entry_id, activity_id, now)
    await _refresh_next_release(member_id)
    return released


async def _release_one(
    member_id: int, entry_id: int, activity_id: int | None, now: datetime
) -> int:
    """Release what is left pending of one credit, under the member's row lock.

    The lock (PostgreSQL; SQLite has one writer) orders concurrent releases of
    the same credit: the later one sees the release entry and does nothing.
    The unique key still guards the insert should two ever get past that.
    """
    try:
        async with in_transaction():
            await lock_member(member_id)
            settled = await LedgerEntry.filter(source_entry_id=entry_id).values_list(
                "kind", "pending_delta"
            )
            if any(kind == EntryKind.RELEASE for kind, _ in settled):
                return 0
            original = await LedgerEntry.get(id=entry_id)
            remaining = int(original.pending_delta) + sum(int(d) for _, d in settled)
            if remaining <= 0:
                return 0
            await post(
                Posting(
                    member_id=member_id,
                    kind=EntryKind.RELEASE,
                    amount=0,
                    pending_delta=-remaining,
                    reason="Pending points are now spendable",
                    actor="system",
                    idempotency_key=released_key(entry_id),
                    request_hash="",
                    source_entry_id=entry_id,
                ),
                community=None,
                now=now,
            )
            if activity_id is not None:
                await Activity.filter(id=activity_id, status=ActivityStatus.PENDING).update(
                    status=ActivityStatus.APPROVED, points=F("points") + remaining
                )
    except IntegrityError:
        return 0  # released by a concurrent caller
    return remaining


async def _released(entry_ids: list[int]) -> set[int]:
    """Which of these pending credits already have their release entry."""
    if not entry_ids:
        return set()
    rows = await LedgerEntry.filter(
        kind=EntryKind.RELEASE, source_entry_id__in=entry_ids
    ).values_list("source_entry_id")
    return {int(row[0]) for row in rows}


async def _refresh_next_release(member_id: int) -> None:
    """Recompute ``next_release_at`` under the member's row lock.

    The lock orders this after any posting in flight, so a pending credit
    committed meanwhile is seen and its due moment is not overwritten.
    """
    async with in_transaction():
        await lock_member(member_id)
        pending = await LedgerEntry.filter(member_id=member_id, pending_delta__gt=0).values_list(
            "id", "available_at"
        )
        released = await _released([p[0] for p in pending])
        open_dates = [at for entry_id, at in pending if entry_id not in released and at]
        await Member.filter(id=member_id).update(next_release_at=min(open_dates, default=None))


async def members_with_due_points(now: datetime, batch: int = 500) -> list[int]:
    """Members holding a pending credit that is due and not yet released.

    Reads the ledger itself, not ``next_release_at``, so a stale cache cannot
    hide due points from ``laurel release-pending``.
    """
    due = await LedgerEntry.filter(pending_delta__gt=0, available_at__lte=now).values_list(
        "id", "member_id"
    )
    if not due:
        return []
    members: set[int] = set()
    for start in range(0, len(due), batch):
        chunk = due[start : start + batch]
        released = await _released([row[0] for row in chunk])
        members.update(member for entry_id, member in chunk if entry_id not in released)
    return sorted(members)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A member whose cached columns differ from the sums of their ledger."""

    member_id: int
    cached: tuple[int, int, int]
    ledger: tuple[int, int, int]


async def find_mismatches() -> list[Mismatch]:
    """Compare every member's (balance, pending, lifetime) with the ledger sums.

    Also reports a negative balance or pending amount as a mismatch with itself.
    """
    sums = await (
        LedgerEntry.all()
        .group_by("member_id")
        .annotate(total=Sum("amount"), pending=Sum("pending_delta"), life=Sum("lifetime_delta"))
        .values_list("member_id", "total", "pending", "life")
    )
    by_member = {
        int(m): (int(t or 0) - int(p or 0), int(p or 0), int(lf or 0)) for m, t, p, lf in sums
    }
    found: list[Mismatch] = []
    rows = await Member.all().values_list(
        "id", "points_balance", "pending_points", "lifetime_points"
    )
    for member_id, balance, pending, lifetime in rows:
        cached = (int(balance), int(pending), int(lifetime))
        expected = by_member.get(int(member_id), (0, 0, 0))
        if cached != expected or min(cached) < 0:
            found.append(Mismatch(member_id=int(member_id), cached=cached, ledger=expected))
    return found
