"""The points ledger: the append-only entries (``LedgerEntry``) and their kinds.

Each entry carries three signed deltas:

* ``amount``: change of the member's points held (spendable + pending), what a
  statement shows ("positive credits, negative debits");
* ``pending_delta``: the part of ``amount`` that is pending (a release entry
  moves points from pending to spendable: ``amount`` 0, ``pending_delta`` < 0);
* ``lifetime_delta``: change of points earned and kept (earning and reversals,
  not spending).

So ``points_balance == sum(amount - pending_delta)``, ``pending_points ==
sum(pending_delta)`` and ``lifetime_points == sum(lifetime_delta)``. Entries are
written only by ``server.rewards.posting.post``, which also moves those balances.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.rewards.activities import Activity
from server.rewards.members import Member

__all__ = ["EntryKind", "LedgerEntry"]


class EntryKind(StrEnum):
    EARN = "EARN"
    RELEASE = "RELEASE"
    ADJUST = "ADJUST"
    SPEND = "SPEND"
    REVERSAL = "REVERSAL"
    SETTLE = "SETTLE"
    EXPIRE = "EXPIRE"
    RETURN = "RETURN"  # points of a cancelled redemption, given back


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
    # Points owed after a reversal the balance could not cover; settled from later earnings.
    debt_delta = fields.IntField(default=0, db_default=0)
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
    # For a pending credit: when it becomes spendable (null: when a moderator approves).
    available_at = fields.DatetimeField(null=True)
    # For an entry that makes points spendable: when they expire if not spent first.
    expires_at = fields.DatetimeField(null=True)
    # Counts toward tiers: earning and its reversals; an admin adjustment only when flagged.
    qualifying = fields.BooleanField(default=False, db_default=False)
    # The tier multiplier applied when these points were earned (null: none, x1).
    multiplier = fields.DecimalField(max_digits=6, decimal_places=3, null=True)
    # When the points count for the period boards (an order's time, else when posted);
    # null only in entries written before this column existed: then created_at.
    occurred_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_entries"
        indexes = (("member_id", "id"), ("available_at",))

    @property
    def is_pending_credit(self) -> bool:
        return self.pending_delta > 0
