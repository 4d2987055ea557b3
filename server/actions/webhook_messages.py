"""The outgoing webhook messages: made from the event log's events (the ``webhooks``
consumer) and from points about to expire (the sender's periodic look), one per
endpoint that wants the type, never twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from server.rewards.activities import Activity
from server.rewards.events import Event, EventType
from server.rewards.expiry import open_lots
from server.rewards.members import Member
from server.rewards.webhooks import WebhookEndpoint, WebhookMessage

__all__ = ["WEBHOOK_CAUSES", "expiring_messages", "make_messages"]

_TYPE_OF = {
    EventType.MEMBER_CREATED: "member.created",
    EventType.POINTS_CREDITED: "points.earned",
    EventType.POINTS_SPENT: "points.spent",
    EventType.POINTS_EXPIRED: "points.expired",
    EventType.BADGE_GRANTED: "badge.awarded",
    EventType.BADGE_REVOKED: "badge.revoked",
    EventType.TIER_CHANGED: "tier.changed",
    EventType.REDEMPTION_CREATED: "redemption.created",
    EventType.REDEMPTION_CANCELLED: "redemption.cancelled",
    EventType.CONTEST_FINALIZED: "contest.finalized",
    EventType.ACTIVITY_RECORDED: "activity.flagged",  # only those flagged for a moderator
}
WEBHOOK_CAUSES = frozenset(_TYPE_OF)


# From the log: one message per event and endpoint that wants its type.


def _member(row: Member | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": str(row.id),
        "externalId": row.external_id,
        "displayName": row.display_name,
        "email": row.email,
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


async def make_messages(events: Sequence[Event], now: datetime) -> int:
    """The messages of a batch of events for every endpoint that wants them (a disabled
    one's wait for it to be enabled again); how many. Repeating a batch makes none twice."""
    endpoints = await WebhookEndpoint.all()
    if not endpoints:
        return 0
    members = {
        m.id: m
        for m in await Member.filter(id__in=list({e.member_id for e in events if e.member_id}))
    }
    flagged = await _flagged(events)
    made: list[WebhookMessage] = []
    for event in events:
        kind = _TYPE_OF.get(event.type)
        if kind is None or (event.type is EventType.ACTIVITY_RECORDED and event.id not in flagged):
            continue
        data = {_camel(k): v for k, v in event.payload.items()}
        if event.type is EventType.ACTIVITY_RECORDED:
            data["reason"] = flagged[event.id]
        body = {
            "type": kind,
            "timestamp": event.created_at.isoformat(),
            "data": {"member": _member(members.get(event.member_id or 0)), **data},
        }
        for endpoint in endpoints:
            if kind in endpoint.events:
                made.append(
                    WebhookMessage(
                        endpoint_id=endpoint.id,
                        event_id=event.id,
                        message_id=f"msg_{event.id}",
                        type=kind,
                        payload=body,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    if made:
        await WebhookMessage.bulk_create(made, ignore_conflicts=True)
    return len(made)


async def expiring_messages(now: datetime, days: int) -> int:
    """``points.expiring`` messages: one per credit whose points (what is left of them)
    expire within ``days``, for each endpoint that wants them, once. How many."""
    endpoints = [e for e in await WebhookEndpoint.all() if "points.expiring" in e.events]
    if not endpoints:
        return 0
    horizon = now + timedelta(days=days)
    members = await Member.filter(next_expiry_at__lte=horizon)
    made: list[WebhookMessage] = []
    for member in members:
        for lot in await open_lots(member.id):
            if lot.expires_at is None or not now < lot.expires_at <= horizon:
                continue
            body = {
                "type": "points.expiring",
                "timestamp": now.isoformat(),
                "data": {
                    "member": _member(member),
                    "points": lot.points,
                    "expiresAt": lot.expires_at.isoformat(),
                    "entryId": lot.entry_id,
                },
            }
            made.extend(
                WebhookMessage(
                    endpoint_id=endpoint.id,
                    event_id=lot.entry_id,  # unique with the type: once per credit
                    message_id=f"msg_expiring_{lot.entry_id}",
                    type="points.expiring",
                    payload=body,
                    next_attempt_at=now,
                    created_at=now,
                )
                for endpoint in endpoints
            )
    if made:
        sent = await WebhookMessage.filter(
            type="points.expiring", event_id__in=[m.event_id for m in made]
        ).values("endpoint_id", "event_id")
        seen = {(int(r["endpoint_id"]), int(r["event_id"])) for r in sent}
        made = [m for m in made if (m.endpoint_id, m.event_id) not in seen]
        await WebhookMessage.bulk_create(made, ignore_conflicts=True)
    return len(made)


async def _flagged(events: Sequence[Event]) -> dict[int, str]:
    """{event id: flag reason} of the recorded activities a moderator must look at."""
    recorded = {
        int(e.payload["activity_id"]): e.id
        for e in events
        if e.type is EventType.ACTIVITY_RECORDED and "activity_id" in e.payload
    }
    if not recorded:
        return {}
    rows = await Activity.filter(id__in=list(recorded), flag_reason__isnull=False).values(
        "id", "flag_reason"
    )
    return {recorded[int(r["id"])]: str(r["flag_reason"]) for r in rows}
