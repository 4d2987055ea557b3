"""Referrals: a member brings a friend; the referrer earns once the friend's first
purchase has outlived its return window without being fully refunded.

A referral is an Activity of kind REFERRAL owned by the referrer, ``target`` =
the referee's id. Flagged ones (self-referral signs, over the monthly limit)
wait for a moderator's approval before they can pay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from server.rewards.activities import Activity, ActivityKind, ActivityStatus
from server.rewards.community import normalize_email
from server.rewards.events import EventType, record_activity
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post, reversal

__all__ = ["flag_for", "settle_referrals"]

_REFUNDED = "The referred member's first purchase was refunded."


def flag_for(
    referrer: Member, referee: Member, referrals_this_month: int, monthly_cap: int | None
) -> str | None:
    """Why a new referral needs a moderator, or None."""
    if referrer.id == referee.id:
        return "The member referred themselves."
    mine, theirs = normalize_email(referrer.email), normalize_email(referee.email)
    if mine is not None and mine == theirs:
        return "Referrer and new member share an e-mail address."
    if monthly_cap is not None and referrals_this_month >= monthly_cap:
        return f"More than {monthly_cap} referrals this month."
    return None


async def settle_referrals(
    *,
    now: datetime,
    window: timedelta,
    keep_for: timedelta | None,
    referrer_id: int | None = None,
    referee_id: int | None = None,
    paid_to: set[int] | None = None,
) -> int:
    """Pay, cancel or claw back referrals whose referee's first purchase decides them.

    Pays when that purchase is past its return window and not fully refunded;
    cancels when it was fully refunded first; takes a paid reward back when it
    is fully refunded later. Returns points paid; adds each referrer paid or
    taken back from to ``paid_to``. Each step is keyed, so concurrent callers
    do it once.
    """
    query = Activity.filter(
        kind=ActivityKind.REFERRAL, status__in=[ActivityStatus.PENDING, ActivityStatus.APPROVED]
    )
    if referrer_id is not None:
        query = query.filter(member_id=referrer_id)
    if referee_id is not None:
        query = query.filter(target=str(referee_id))
    paid = 0
    for referral in await query:
        first = (
            await Activity.filter(member_id=int(referral.target or 0), kind=ActivityKind.PURCHASE)
            .order_by("occurred_at", "id")
            .first()
        )
        if first is None:
            continue
        refunded = first.status is ActivityStatus.REVERSED
        if referral.status is ActivityStatus.APPROVED:
            if refunded and await _claw_back(referral, now) and paid_to is not None:
                paid_to.add(referral.member_id)
            continue
        if refunded:
            await _cancel(referral, now)
        elif first.occurred_at + window <= now and not _awaiting_moderator(referral):
            due = max(first.occurred_at + window, referral.decided_at or referral.occurred_at)
            points = await _pay(referral, now, due + keep_for if keep_for else None)
            paid += points
            if points and paid_to is not None:
                paid_to.add(referral.member_id)
    return paid


def _awaiting_moderator(referral: Activity) -> bool:
    return referral.flag_reason is not None and referral.decided_at is None


async def _cancel(referral: Activity, now: datetime) -> None:
    """Reject a pending referral whose referee's first purchase was refunded."""
    async with in_transaction():
        won = await Activity.filter(id=referral.id, status=ActivityStatus.PENDING).update(
            status=ActivityStatus.REJECTED,
            decision_reason=_REFUNDED,
            decided_at=now,
            decided_by="system",
        )
        if won == 1:
            await record_activity(
                EventType.ACTIVITY_REJECTED, referral, ActivityStatus.REJECTED, _REFUNDED
            )


async def _pay(referral: Activity, now: datetime, expires_at: datetime | None) -> int:
    points = referral.points_awarded
    async with in_transaction():
        referrer = await lock_member(referral.member_id)
        won = await Activity.filter(id=referral.id, status=ActivityStatus.PENDING).update(
            status=ActivityStatus.APPROVED, points=points
        )
        if won != 1:
            return 0
        await record_activity(EventType.ACTIVITY_APPROVED, referral, ActivityStatus.APPROVED)
        if points <= 0:
            return 0
        await post(
            Posting(
                member_id=referrer.id,
                kind=EntryKind.EARN,
                amount=points,
                lifetime_delta=points,
                reason="Referral: your friend's first order is final",
                actor="system",
                idempotency_key=f"referral:{referral.id}",
                request_hash="",
                activity_id=referral.id,
                expires_at=expires_at,
            ),
            community=referrer.community,
            now=now,
        )
    return points


async def _claw_back(referral: Activity, now: datetime) -> bool:
    async with in_transaction():
        referrer = await lock_member(referral.member_id)
        won = await Activity.filter(id=referral.id, status=ActivityStatus.APPROVED).update(
            status=ActivityStatus.REVERSED,
            points=0,
            decision_reason=_REFUNDED,
        )
        if won != 1:
            return False
        await record_activity(EventType.ACTIVITY_REVERSED, referral, ActivityStatus.REVERSED)
        if referral.points <= 0:
            return True
        await post(
            reversal(
                member=referrer,
                points=referral.points,
                from_pending=0,
                lifetime=referral.points,
                reason="Referral reward taken back: your friend's first order was refunded",
                actor="system",
                idempotency_key=f"referral-reversal:{referral.id}",
                activity_id=referral.id,
            ),
            community=referrer.community,
            now=now,
        )
    return True
