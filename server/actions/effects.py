"""What follows a committed change: badges granted or revoked, the tier change recorded
(with its entry bonus), and a member's balances brought up to date on read.

Every effect here runs after the change it follows has committed and is safe to
repeat. A use case runs them itself (``award_badges``, which never raises: the
request has committed and must answer its success); the event log's effects
consumer runs them again for events whose request did not finish them (a worker
killed, the database lost after the commit). ``inline_effects`` tells the two apart.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from datetime import timedelta

from tortoise.transactions import in_transaction

from badges import CAUSES, Grant, Metric, Outcome, evaluate
from server.actions.services import Services
from server.rewards.activities import ActivityKind
from server.rewards.events import EffectsDone, EventType, collecting, record
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.pending import release_due
from server.rewards.posting import Posting, lock_member, post
from server.rewards.referrals import settle_referrals
from server.rewards.standings import qualifying_of
from server.rewards.tiers import ROLLING_DAYS, Tier, TierChange, TierWindow, ladder

__all__ = [
    "CAUSES_OF_EFFECTS",
    "announce_badges",
    "award_badges",
    "evaluate_badges",
    "fresh",
    "inline_effects",
    "track_tier",
]

_log = logging.getLogger("laurel.effects")

# The events whose badge and tier effects the effects consumer carries out.
CAUSES_OF_EFFECTS = frozenset(
    {
        EventType.ACTIVITY_RECORDED,
        EventType.ACTIVITY_APPROVED,
        EventType.ACTIVITY_REJECTED,
        EventType.ACTIVITY_REVERSED,
        EventType.POINTS_CREDITED,
        EventType.POINTS_REVERSED,
        EventType.POINTS_RELEASED,
        EventType.CONTEST_FINALIZED,
    }
)

# False once an effect of the current request failed: its events are left to the log.
_all_done: ContextVar[bool] = ContextVar("laurel_effects_done", default=True)


@contextlib.asynccontextmanager
async def inline_effects() -> AsyncIterator[None]:
    """Around one request's use case: if every effect it ran itself succeeded, mark the
    events it appended as done, so the effects consumer does not evaluate them again."""
    token = _all_done.set(True)
    try:
        with collecting() as recorded:
            yield
            if not _all_done.get():
                return
            done = [EffectsDone(event_id=e.id) for e in recorded if e.type in CAUSES_OF_EFFECTS]
            if done:
                with contextlib.suppress(Exception):  # then the consumer does them again
                    await EffectsDone.bulk_create(done, ignore_conflicts=True)
    finally:
        _all_done.reset(token)


async def award_badges(
    svc: Services,
    member_id: int,
    kinds: Iterable[ActivityKind] = (),
    *,
    metrics: Iterable[Metric] = (),
    activity_id: int | None = None,
    tier_unchanged: bool = False,
) -> list[Grant]:
    """``evaluate_badges`` after a commit, in the request: never raises. When it fails
    (the database went away) the change's events carry the work to the effects consumer,
    and the member learns of the badges through the subscription and the next reads."""
    try:
        return await evaluate_badges(
            svc,
            member_id,
            kinds,
            metrics=metrics,
            activity_id=activity_id,
            tier_unchanged=tier_unchanged,
        )
    except Exception as exc:
        _all_done.set(False)
        _log.warning("badges of member %s left to the event log: %s", member_id, exc)
        return []


async def evaluate_badges(
    svc: Services,
    member_id: int,
    kinds: Iterable[ActivityKind] = (),
    *,
    metrics: Iterable[Metric] = (),
    activity_id: int | None = None,
    tier_unchanged: bool = False,
) -> list[Grant]:
    """Grant and revoke the badges a change can affect, record a tier change it made,
    and tell the boards and subscribers. Returns the levels granted; raises on failure.

    ``tier_unchanged``: the change's own transaction found the tier at its commit to be
    the one recorded (``server.rewards.standings.Qualifying``), so the tier is looked at
    again only if a badge's bonus moved the points."""
    todo = set(metrics)
    for kind in kinds:
        todo |= CAUSES[kind]
    if not todo:
        return []
    outcome = await evaluate(
        member_id, todo, now=svc.clock(), keep_for=svc.keep_for, activity_id=activity_id
    )
    if outcome or not tier_unchanged:
        await track_tier(svc, member_id)
    await announce_badges(svc, outcome)
    return outcome.granted


async def announce_badges(svc: Services, outcome: Outcome) -> None:
    """Move the boards for the bonuses an outcome paid or took back, and tell the
    subscribers of the levels granted (both from the log, inline)."""
    if outcome:
        await svc.events.committed()


async def track_tier(svc: Services, member_id: int) -> TierChange | None:
    """Record a tier change first seen now, and pay the new tier's entry bonus once per
    window. Runs after earnings commit and on reads; concurrent callers record it once."""
    now = svc.clock()
    tiers = await ladder()
    if not tiers:
        return None
    standing = (await qualifying_of([member_id], now, svc.tier_window))[member_id]
    current = standing.held(tiers)
    if current is None:  # below every tier
        return None
    held = await Member.get_or_none(id=member_id).only("id", "tier_id")
    if held is not None and held.tier_id == current.id:
        return None  # unchanged, as after most earnings: no locked transaction
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
            qualifying_points=standing.points,
            created_at=now,
        )
        await record(
            EventType.TIER_CHANGED,
            member_id,
            {"from_tier_id": member.tier_id, "to_tier_id": current.id, "change_id": change.id},
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
    await svc.events.committed()
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
        await svc.events.committed()
    return found
