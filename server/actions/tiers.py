"""Tiers: the ladder, a member's standing, the multiplier at earning, and tier changes
recorded (with a one-time entry bonus) when first seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from server.actions.common import Services, require
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import Invalid, NotFound
from server.rewards.ledger import EntryKind, Posting, lock_member, post
from server.rewards.members import Member
from server.rewards.tiers import (
    ROLLING_DAYS,
    Standing,
    Tier,
    TierChange,
    TierValues,
    TierWindow,
    ensure_tiers,
    standing_of,
    tiers,
    validate_tiers,
)

__all__ = [
    "earning_tier",
    "multiplier_of",
    "tier_ladder",
    "tier_standing",
    "track_tier",
    "update_tier",
]


async def tier_ladder() -> list[Tier]:
    """Every tier, lowest first (seeded with the defaults if there are none)."""
    found = await tiers()
    if not found:
        await ensure_tiers()
        found = await tiers()
    return found


async def tier_standing(svc: Services, member_id: int) -> Standing:
    """The member's tier now, from the ledger (no job needs to have run)."""
    if not await Tier.exists():
        await ensure_tiers()
    return await standing_of(member_id, svc.clock(), svc.tier_window)


async def earning_tier(svc: Services, member_id: int) -> Tier | None:
    """The tier whose multiplier an earning gets now; None without tiers (x1)."""
    return (await standing_of(member_id, svc.clock(), svc.tier_window)).tier


def multiplier_of(tier: Tier | None) -> Decimal | None:
    return None if tier is None else tier.multiplier


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


async def update_tier(
    principal: Principal,
    tier_id: str,
    *,
    name: str | None = None,
    threshold: int | None = None,
    multiplier: float | None = None,
    entry_bonus: int | None = None,
) -> Tier:
    """ADMIN: change a tier; the whole ladder is validated as it would be after."""
    require(principal, Role.ADMIN)
    pk = v.parse_id("tierId", tier_id)
    ladder = await tier_ladder()
    target = next((t for t in ladder if t.id == pk), None)
    if target is None:
        raise NotFound(f"No tier with id {tier_id!r}.")
    try:
        rate = None if multiplier is None else Decimal(str(multiplier)).quantize(Decimal("0.001"))
    except InvalidOperation:
        raise Invalid("multiplier", "multiplier must be a number like 1.25.") from None
    values = {t.id: _values(t) for t in ladder}
    values[target.id] = replace(
        values[target.id],
        name=values[target.id].name if name is None else name.strip(),
        threshold=values[target.id].threshold if threshold is None else threshold,
        multiplier=values[target.id].multiplier if rate is None else rate,
        entry_bonus=values[target.id].entry_bonus if entry_bonus is None else entry_bonus,
    )
    validate_tiers(sorted(values.values(), key=lambda t: t.threshold))
    new = values[target.id]
    await Tier.filter(id=target.id).update(
        name=new.name,
        threshold=new.threshold,
        multiplier=new.multiplier,
        entry_bonus=new.entry_bonus,
        updated_by=principal.actor,
    )
    await target.refresh_from_db()
    return target


def _values(tier: Tier) -> TierValues:
    return TierValues(tier.name, tier.threshold, tier.multiplier, tier.entry_bonus)
