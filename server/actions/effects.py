"""What follows a committed change: badges granted or revoked, the tier change recorded
(with its entry bonus), and a member's balances brought up to date on read.

Every effect here runs after the change it follows has committed, is safe to
repeat, and tells the boards and subscribers through ``Services.events``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from tortoise.transactions import in_transaction

from badges import CAUSES, Grant, Metric, Outcome, evaluate
from server.actions.services import Services
from server.rewards.activities import ActivityKind
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind, Posting, lock_member, post
from server.rewards.members import Member
from server.rewards.pending import release_due
from server.rewards.referrals import settle_referrals
from server.rewards.standings import standing_of
from server.rewards.tiers import ROLLING_DAYS, Tier, TierChange, TierWindow

__all__ = ["announce_badges", "award_badges", "fresh", "track_tier"]


async def award_badges(
    svc: Services,
    member_id: int,
    kinds: Iterable[ActivityKind] = (),
    *,
    metrics: Iterable[Metric] = (),
    activity_id: int | None = None,
) -> list[Grant]:
    """After a committed change: grant and revoke the badges it can affect, tell the
    member's subscribers, and record a tier change it made. Returns the levels granted."""
    todo = set(metrics)
    for kind in kinds:
        todo |= CAUSES[kind]
    if not todo:
        return []
    outcome = await evaluate(
        member_id, todo, now=svc.clock(), keep_for=svc.keep_for, activity_id=activity_id
    )
    await announce_badges(svc, member_id, outcome)
    await track_tier(svc, member_id)
    return outcome.granted


async def announce_badges(svc: Services, member_id: int, outcome: Outcome) -> None:
    """Move the boards for the bonuses an outcome paid or took back; tell subscribers."""
    if outcome:
        await svc.events.points_committed()  # bonuses and reversals move the boards
    if outcome.granted:
        await svc.events.badges_awarded(member_id, [g.award.id for g in outcome.granted])


async def track_tier(svc: Services, member_id: int) -> TierChange | None:
    """Record a tier change first seen now, and pay the new tier's entry bonus once per
    window. Runs after earnings commit and on reads; concurrent callers record it once."""
    now = svc.clock()
    standing = await standing_of(member_id, now, svc.tier_window)
    current = standing.tier
    if current is None:  # no tiers defined
        return None
    async with in_transaction():
        member = await lock_member(member_id)
        if member.tier_id == current.id:
            return None
        previous = None if member.tier_id is None else await Tier.get_or_none(id=member.tier_id)
        await Member.filter(id=member_id).update(tier_id=current.id)
        change = await TierChange.create(
            member_id=member_id,
            from_tier_id=member.tier_id,
            to_tier_id=current.id,
            qualifying_points=standing.qualifying_points,
            created_at=now,
        )
        rising = previous is None or current.threshold > previous.threshold
        if rising and current.entry_bonus > 0 and not await _bonus_paid(svc, member_id, current):
            await post(
                Posting(
                    member_id=member_id,
                    kind=EntryKind.EARN,
                    amount=current.entry_bonus,
                    lifetime_delta=current.entry_bonus,
                    qualifying=False,  # a bonus for a tier must not lift the member further
                    reason=f"Welcome to {current.name}",
                    actor="tiers",
                    idempotency_key=f"tier-bonus:{change.id}",
                    request_hash="",
                    expires_at=now + svc.keep_for if svc.keep_for else None,
                ),
                community=member.community,
                now=now,
            )
            await TierChange.filter(id=change.id).update(bonus_points=current.entry_bonus)
    await svc.events.points_committed()
    return change


async def _bonus_paid(svc: Services, member_id: int, tier: Tier) -> bool:
    now = svc.clock()
    if svc.tier_window is TierWindow.CALENDAR:
        since = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        since = now - timedelta(days=ROLLING_DAYS)
    return await TierChange.filter(
        member_id=member_id, to_tier_id=tier.id, bonus_points__gt=0, created_at__gte=since
    ).exists()


async def fresh(svc: Services, found: Member) -> Member:
    """The member with due points released, referrals settled and expired points
    expired, so reads are right without a job having run.

    The row is always read again at the end: a concurrent request may have done
    the work this one found done.
    """
    now = svc.clock()
    changed = 0
    paid: set[int] = set()
    if found.next_release_at is not None and found.next_release_at <= now:
        changed += await release_due(found.id, now, keep_for=svc.keep_for)
        changed += await settle_referrals(
            now=now,
            window=svc.return_window,
            keep_for=svc.keep_for,
            referee_id=found.id,
            paid_to=paid,
        )
    changed += await settle_referrals(
        now=now, window=svc.return_window, keep_for=svc.keep_for, referrer_id=found.id, paid_to=paid
    )
    if changed:  # a share that waited is counted from now on
        await award_badges(svc, found.id, [ActivityKind.SOCIAL_SHARE])
    else:  # points may have left the tier window since the last look
        await track_tier(svc, found.id)
    for referrer in sorted(paid):
        await award_badges(svc, referrer, [ActivityKind.REFERRAL])
    await found.refresh_from_db()
    if found.next_expiry_at is not None and found.next_expiry_at <= now:
        changed += await expire_due(found.id, now)
        await found.refresh_from_db()
    if changed:
        await svc.events.points_committed()
    return found
