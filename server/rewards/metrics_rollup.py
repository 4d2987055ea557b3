"""The rollups behind program metrics: derived data, never a source of truth, rebuilt
from nothing by ``server.rewards.metrics_catchup.rebuild`` (docs/decisions/0034).

A cursor per source table says which ids are rolled up: every entry (or activity) with
an id up to ``last_id``, none above it. Readers add the raw rows above the cursor, so a
rollup that is behind gives the same figures, only slower.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["ActivityRow", "LedgerDay", "MemberDay", "MetricsCursor"]


class MetricsCursor(Model):
    """How far each rollup is: the ids of its table up to last_id are in it, none above.
    ``ledger_days`` and ``member_days`` roll up ledger_entries, ``activities`` the
    activities."""

    name = fields.CharField(max_length=32, primary_key=True)
    last_id = fields.BigIntField(default=0)

    class Meta:
        table = "metrics_cursors"


class LedgerDay(Model):
    """The ledger's amounts per UTC day of occurred_at, entry kind, source and sign: the
    kind of the activity that earned them ('' without one), ``positive`` for amount > 0."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DatetimeField()
    kind = fields.CharField(max_length=16)
    source = fields.CharField(max_length=16)
    positive = fields.BooleanField()
    amount = fields.BigIntField()

    class Meta:
        table = "metrics_ledger_days"
        unique_together = (("day", "kind", "source", "positive"),)


class MemberDay(Model):
    """A member's qualifying points (lifetime_delta of qualifying entries) per UTC day of
    occurred_at, and the part of them at the day's midnight exactly: the tiers' window
    (end - 365 days, end] takes a midnight with the day before it."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    day = fields.DatetimeField()
    points = fields.BigIntField()
    midnight_points = fields.BigIntField()

    class Meta:
        table = "metrics_member_days"
        unique_together = (("member_id", "day"),)


class ActivityRow(Model):
    """An activity with what the order figures need: its member, time and amount, its
    member's previous activity time (any kind) and, for an order, the times of the
    member's two orders before it (by time, then id)."""

    id = fields.BigIntField(primary_key=True)
    activity_id = fields.BigIntField()
    member_id = fields.BigIntField(db_index=True)
    occurred_at = fields.DatetimeField()
    purchase = fields.BooleanField()
    cents = fields.BigIntField()
    prev_any = fields.DatetimeField(null=True)
    prev = fields.DatetimeField(null=True)
    prev2 = fields.DatetimeField(null=True)

    class Meta:
        table = "metrics_activities"
