"""The domain event log: one row per change, appended in the change's own transaction.

Whatever follows a commit (boards, badges and tiers, live notifications, and later
webhooks and metrics) reads this log through a consumer with a durable cursor, so a
crash between a commit and its effects loses nothing: the effect runs from the log.

Ids grow with each append. On PostgreSQL a transaction that appended a lower id may
commit after one with a higher id; consumers remember such gaps and pick the late
events up (``server.events``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.rewards.activities import Activity, ActivityStatus

__all__ = [
    "ConsumerState",
    "EffectsDone",
    "Event",
    "EventType",
    "collecting",
    "moment",
    "record",
    "record_activity",
    "recorded_types",
]


class EventType(StrEnum):
    MEMBER_CREATED = "member.created"
    MEMBER_UPDATED = "member.updated"
    ACTIVITY_RECORDED = "activity.recorded"
    ACTIVITY_APPROVED = "activity.approved"
    ACTIVITY_REJECTED = "activity.rejected"
    ACTIVITY_REVERSED = "activity.reversed"
    POINTS_CREDITED = "points.credited"
    POINTS_REVERSED = "points.reversed"
    POINTS_SPENT = "points.spent"
    POINTS_EXPIRED = "points.expired"
    POINTS_RELEASED = "points.released"
    BADGE_GRANTED = "badge.granted"
    BADGE_REVOKED = "badge.revoked"
    TIER_CHANGED = "tier.changed"
    REDEMPTION_CREATED = "redemption.created"
    REDEMPTION_CANCELLED = "redemption.cancelled"
    REDEMPTION_FULFILLED = "redemption.fulfilled"
    CONTEST_PUBLISHED = "contest.published"
    CONTEST_FINALIZED = "contest.finalized"
    HOOK_RECEIVED = "hook.received"  # a shop's webhook delivery, stored, to apply


class Event(Model):
    """One committed change. Never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    type = fields.CharEnumField(EventType, max_length=32)
    member_id = fields.BigIntField(null=True)
    payload: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events"
        indexes = (("member_id", "id"),)


class ConsumerState(Model):
    """Where one consumer of the log stands, and which process may advance it."""

    name = fields.CharField(max_length=32, primary_key=True)
    # Every event up to here was handled, except the ids in ``gaps``.
    position = fields.BigIntField(default=0)
    # [[id, first seen (unix s)], ...]: ids below the position not yet committed when
    # the consumer passed them; handled if they appear, dropped after a while.
    gaps: Any = fields.JSONField(default=list)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    failures = fields.IntField(default=0)
    retry_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    # The consumer's own facts, e.g. the boards' epoch and what their rebuild covered.
    state: Any = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "event_consumers"


class EffectsDone(Model):
    """An event whose badge and tier effects the request that made it carried out itself:
    the effects consumer skips it (and deletes the marker). Bookkeeping, not the log."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.BigIntField(unique=True)

    class Meta:
        table = "effects_done"


_recorded: ContextVar[list[Event] | None] = ContextVar("laurel_recorded_events", default=None)


async def record(
    type: EventType, member_id: int | None, payload: dict[str, Any] | None = None
) -> Event:
    """Append an event. Call it inside the transaction of the change it describes."""
    event = await Event.create(type=type, member_id=member_id, payload=payload or {})
    seen = _recorded.get()
    if seen is not None:
        seen.append(event)
    return event


async def record_activity(
    type: EventType,
    activity: Activity,
    status: ActivityStatus | None = None,
    reason: str | None = None,
) -> Event:
    """Append an activity event (recorded, or ``status`` just taken, with its reason)."""
    payload: dict[str, Any] = {
        "activity_id": activity.id,
        "kind": activity.kind.value,
        "status": (status or activity.status).value,
    }
    if reason is not None:
        payload["reason"] = reason
    return await record(type, activity.member_id, payload)


@contextmanager
def collecting() -> Iterator[list[Event]]:
    """The events this task appends inside the block (those of rolled-back work too)."""
    token = _recorded.set([])
    try:
        seen = _recorded.get()
        assert seen is not None
        yield seen
    finally:
        _recorded.reset(token)


def recorded_types() -> frozenset[EventType] | None:
    """The types of the events appended so far inside the current ``collecting`` block;
    None outside one (then nothing is known about what this task appended)."""
    seen = _recorded.get()
    return None if seen is None else frozenset(e.type for e in seen)


def moment(value: datetime) -> str:
    """A time as a payload holds it."""
    return value.isoformat()
