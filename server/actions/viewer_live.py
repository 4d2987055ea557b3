"""Live updates of a shopper's own account: any change that concerns the viewer
(points, pending points, an activity's status, the tier, redemptions, badges) reaches
their open page, which then reads ``viewer`` again.

The ``viewer`` consumer of the event log publishes one message per member whose events
it passed, in one pipeline, only to members someone listens for (one PUBSUB call a
batch). It is not inline: a request pays nothing for it; it runs in the background loop
within its poll (0.25 s). Publishing raises while Redis is down, so the batch waits in
the log and goes out when Redis is back, unless older than ``LIVE_MAX_AGE``. A page whose
subscription lived through an outage gets one ``resync``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from leaderboards import NotPublished, listen
from leaderboards.client import channels_listened, publish_each
from server.actions.services import Services
from server.auth import Principal, Role
from server.events import LIVE_MAX_AGE
from server.rewards.errors import PermissionDenied
from server.rewards.events import Event, EventType
from server.rewards.text import msg

__all__ = ["RESYNC", "VIEWER", "VIEWER_CAUSES", "announce_viewers", "viewer_changes"]

VIEWER = "viewer"
RESYNC = "resync"  # the subscription was interrupted: read everything again
VIEWER_CAUSES = frozenset(
    {
        EventType.MEMBER_UPDATED,
        EventType.ACTIVITY_RECORDED,
        EventType.ACTIVITY_APPROVED,
        EventType.ACTIVITY_REJECTED,
        EventType.ACTIVITY_REVERSED,
        EventType.POINTS_CREDITED,
        EventType.POINTS_REVERSED,
        EventType.POINTS_SPENT,
        EventType.POINTS_EXPIRED,
        EventType.POINTS_RELEASED,
        EventType.BADGE_GRANTED,
        EventType.BADGE_REVOKED,
        EventType.TIER_CHANGED,
        EventType.REDEMPTION_CREATED,
        EventType.REDEMPTION_CANCELLED,
        EventType.REDEMPTION_FULFILLED,
    }
)
_PREFIX = "laurel:events:viewer:"


def _channel(member_id: int) -> str:
    return f"{_PREFIX}{member_id}"


async def announce_viewers(svc: Services, events: Sequence[Event]) -> None:
    """The consumer: tell each listening member what changed last (see the module)."""
    if svc.boards is None:
        return
    now = datetime.now(UTC)
    latest: dict[int, Event] = {}
    for event in events:
        if event.member_id is not None and now - event.created_at <= LIVE_MAX_AGE:
            latest[event.member_id] = event
    if not latest:
        return
    redis = svc.boards.redis
    try:
        listened = await channels_listened(redis, f"{_PREFIX}*")
        messages = {
            _channel(m): json.dumps({"type": e.type.value, "event": e.id})
            for m, e in latest.items()
            if _channel(m) in listened
        }
        if messages:
            await publish_each(redis, messages)
    except Exception as exc:
        raise NotPublished(f"viewer updates: Redis unavailable: {exc}") from exc


def viewer_changes(svc: Services, principal: Principal) -> AsyncIterator[str]:
    """SHOPPER: the type of each change to the caller's account from now on (the last
    of a batch), or ``RESYNC`` after an interruption."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied(msg("Only a signed-in shopper can follow their own account."))
    return _changes(svc, principal.member_id)


async def _changes(svc: Services, member_id: int) -> AsyncIterator[str]:
    if svc.boards is None:
        return
    async for message in listen(svc.boards.redis, _channel(member_id)):
        yield RESYNC if message is None else str(json.loads(message)["type"])
