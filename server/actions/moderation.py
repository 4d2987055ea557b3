"""Moderation: what waits for a moderator (reviews, flagged referrals) and decisions.

A decision is made once, in one transaction under the member's row lock: a
second moderator (or a retry) gets the first outcome back, or a ConflictError
if they decided otherwise. Reversing an approved review takes its points back
with a compensating entry.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.transactions import in_transaction

from server.actions.common import Recorded, find_by_id, require
from server.actions.effects import award_badges
from server.actions.ingest import REVIEWS
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus
from server.rewards.errors import Conflict, Invalid
from server.rewards.events import EventType, record_activity
from server.rewards.expiry import expire_due
from server.rewards.ledger import LedgerEntry
from server.rewards.pending import release_credit, remaining_pending
from server.rewards.posting import lock_member, post, reversal
from server.rewards.referrals import settle_referrals
from server.rewards.text import msg

__all__ = ["Decision", "moderate_activity", "moderation_queue"]


class Decision(StrEnum):
    """What a moderator does with an activity: approve or reject what waits, reverse an
    approved review."""

    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REVERSE = "REVERSE"


def _awaits_moderator(activity: Activity) -> bool:
    """Undecided and pending. Activities that need no moderator are decided by the
    rules when recorded; purchases are never moderated."""
    return (
        activity.status is ActivityStatus.PENDING
        and activity.decided_at is None
        and activity.kind is not ActivityKind.PURCHASE
    )


async def moderation_queue(principal: Principal, *, first: int, max_size: int) -> list[Activity]:
    """Reviews and flagged referrals waiting for a moderator, oldest first; staff only."""
    if principal.role not in (Role.MODERATOR, Role.ADMIN):
        return []
    if not 1 <= first <= max_size:
        raise Invalid("first", msg("first must be between 1 and {max_size}.", max_size=max_size))
    waiting = Activity.filter(status=ActivityStatus.PENDING, decided_at__isnull=True).exclude(
        kind=ActivityKind.PURCHASE
    )
    return await waiting.order_by("id").limit(first)


async def moderate_activity(
    svc: Services,
    principal: Principal,
    *,
    activity_id: str,
    decision: Decision,
    reason: str | None,
) -> Recorded:
    """MODERATOR: approve or reject what waits, or reverse an approved review.

    Decided once: a second moderator (or a retry) gets the first outcome back,
    or a ConflictError if they decided otherwise.
    """
    require(principal, Role.MODERATOR, Role.ADMIN)
    note = (
        None
        if reason is None or not reason.strip()
        else v.clean_text("reason", reason, max_length=500)
    )
    activity = await find_by_id(Activity, "activityId", activity_id, "activity")
    now = svc.clock()
    if decision is Decision.REVERSE:
        return await _reverse(svc, principal, activity, note, now)
    # One transaction under the member's row lock: a concurrent moderator waits,
    # then finds the decision made and gets it back.
    async with in_transaction():
        await lock_member(activity.member_id)
        await activity.refresh_from_db()
        if not _awaits_moderator(activity):
            return _already_decided(activity, decision)
        await Activity.filter(id=activity.id).update(
            decided_at=now, decided_by=principal.actor, decision_reason=note
        )
        points = await _decide(svc, principal, activity, decision, note, now)
    await svc.events.committed()
    granted = []
    if decision is Decision.APPROVE:
        granted = await award_badges(
            svc, activity.member_id, [activity.kind], activity_id=activity.id
        )
    await activity.refresh_from_db()
    return Recorded(
        activity=activity, points_awarded=points, duplicate=False, badges=tuple(granted)
    )


async def _decide(
    svc: Services,
    principal: Principal,
    activity: Activity,
    decision: Decision,
    note: str | None,
    now: datetime,
) -> int:
    """Inside the decision's transaction, the activity found waiting under the lock."""
    if activity.kind is ActivityKind.REFERRAL:
        if decision is Decision.REJECT:
            # Conditional: settling (refunded first purchase) may have rejected it meanwhile.
            won = await Activity.filter(id=activity.id, status=ActivityStatus.PENDING).update(
                status=ActivityStatus.REJECTED
            )
            if won == 1:
                await record_activity(
                    EventType.ACTIVITY_REJECTED, activity, ActivityStatus.REJECTED, note
                )
            return 0
        return await settle_referrals(
            now=now, window=svc.return_window, keep_for=svc.keep_for, referrer_id=activity.member_id
        )
    if decision is Decision.APPROVE:
        return await _approve_review(svc, principal, activity, now)
    await _reject_review(principal, activity, note, now)
    return 0


def _already_decided(activity: Activity, decision: Decision) -> Recorded:
    outcome = {Decision.APPROVE: ActivityStatus.APPROVED, Decision.REJECT: ActivityStatus.REJECTED}
    same = activity.status is outcome[decision] or (
        decision is Decision.APPROVE
        and activity.kind is ActivityKind.REFERRAL
        and activity.decided_at is not None
        and activity.status is not ActivityStatus.REJECTED
    )
    if same:
        return Recorded(activity=activity, points_awarded=0, duplicate=True)
    raise Conflict(
        {
            ActivityStatus.PENDING: msg("This activity is pending; nothing waits for a decision."),
            ActivityStatus.APPROVED: msg(
                "This activity is approved; nothing waits for a decision."
            ),
            ActivityStatus.REJECTED: msg(
                "This activity is rejected; nothing waits for a decision."
            ),
            ActivityStatus.REVERSED: msg(
                "This activity is reversed; nothing waits for a decision."
            ),
        }[activity.status]
    )


async def _credit_of(activity: Activity) -> LedgerEntry | None:
    return await LedgerEntry.get_or_none(idempotency_key=f"earn:activity:{activity.id}")


async def _approve_review(
    svc: Services, principal: Principal, activity: Activity, now: datetime
) -> int:
    credit = await _credit_of(activity)
    if credit is None:  # a rule worth 0 points
        await Activity.filter(id=activity.id).update(status=ActivityStatus.APPROVED)
        await record_activity(EventType.ACTIVITY_APPROVED, activity, ActivityStatus.APPROVED)
        return 0
    # release_credit records activity.approved when it moves the activity out of PENDING.
    return await release_credit(
        activity.member_id,
        credit.id,
        activity.id,
        now=now,
        keep_for=svc.keep_for,
        actor=principal.actor,
        reason=f"Review of {activity.payload.get('productId')} approved",
    )


async def _reject_review(
    principal: Principal, activity: Activity, note: str | None, now: datetime
) -> None:
    credit = await _credit_of(activity)
    async with in_transaction():
        member = await lock_member(activity.member_id)
        await Activity.filter(id=activity.id).update(status=ActivityStatus.REJECTED)
        await record_activity(EventType.ACTIVITY_REJECTED, activity, ActivityStatus.REJECTED, note)
        if credit is None:
            return
        left = (await remaining_pending([credit.id])).get(credit.id, 0)
        if left > 0:
            await post(
                reversal(
                    member=member,
                    points=left,
                    from_pending=left,
                    lifetime=0,
                    reason=f"Review of {activity.payload.get('productId')} not approved",
                    actor=principal.actor,
                    idempotency_key=f"reject:{activity.id}",
                    activity_id=activity.id,
                    source_entry_id=credit.id,
                ),
                community=member.community,
                now=now,
            )


async def _reverse(
    svc: Services, principal: Principal, activity: Activity, note: str | None, now: datetime
) -> Recorded:
    """Remove an approved review: its points are taken back by a compensating entry."""
    if activity.kind not in REVIEWS:
        raise Invalid("decision", msg("Only reviews can be reversed by a moderator."))
    if activity.status is ActivityStatus.REVERSED:
        return Recorded(activity=activity, points_awarded=0, duplicate=True)
    if activity.status is not ActivityStatus.APPROVED:
        raise Conflict(msg("Only an approved review can be reversed."))
    await expire_due(activity.member_id, now)
    async with in_transaction():
        member = await lock_member(activity.member_id)
        won = await Activity.filter(id=activity.id, status=ActivityStatus.APPROVED).update(
            status=ActivityStatus.REVERSED,
            points=0,
            decided_by=principal.actor,
            decided_at=now,
            decision_reason=note,
        )
        if won != 1:
            await activity.refresh_from_db()
            return Recorded(activity=activity, points_awarded=0, duplicate=True)
        await record_activity(EventType.ACTIVITY_REVERSED, activity, ActivityStatus.REVERSED)
        if activity.points > 0:
            await post(
                reversal(
                    member=member,
                    points=activity.points,
                    from_pending=0,
                    lifetime=activity.points,
                    reason=f"Review of {activity.payload.get('productId')} removed",
                    actor=principal.actor,
                    idempotency_key=f"reverse:{activity.id}",
                    activity_id=activity.id,
                ),
                community=member.community,
                now=now,
            )
    await svc.events.committed()
    await award_badges(svc, activity.member_id, [activity.kind])  # may revoke
    taken = activity.points
    await activity.refresh_from_db()
    return Recorded(activity=activity, points_awarded=-taken, duplicate=False)
