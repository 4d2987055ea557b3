"""Tiers: the ladder, members' standings, the multiplier at earning, and admin changes.

Tier changes are recorded (with their entry bonus) after commits and on reads,
by ``server.actions.effects.track_tier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from server.actions.common import require
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import snapshots
from server.rewards import validation as v
from server.rewards.errors import Invalid, NotFound
from server.rewards.standings import Standing, held_tiers, standings_of
from server.rewards.text import msg
from server.rewards.tiers import Tier, TierValues, ensure_tiers, ladder, tiers, validate_tiers

__all__ = [
    "earning_tier",
    "multiplier_of",
    "tier_ladder",
    "tier_standing",
    "tier_standings",
    "tier_values",
    "tiers_held",
    "update_tier",
]


async def tier_ladder() -> list[Tier]:
    """Every tier, lowest first (seeded with the defaults if there are none)."""
    found = await tiers()
    if not found:
        await ensure_tiers()
        found = await tiers()
    return found


async def tier_standings(svc: Services, member_ids: Sequence[int]) -> dict[int, Standing]:
    """Many members' tiers now, from the ledger, in a few queries however many (for
    DataLoaders); every id asked for is in the answer."""
    return await standings_of(await tier_ladder(), member_ids, svc.clock(), svc.tier_window)


async def tiers_held(svc: Services, member_ids: Sequence[int]) -> dict[int, Tier | None]:
    """Many members' tiers now, in one query on the ladder (for a list of members);
    None only when no tiers are defined."""
    return await held_tiers(await tier_ladder(), member_ids, svc.clock(), svc.tier_window)


async def tier_standing(svc: Services, member_id: int) -> Standing:
    """The member's tier now, from the ledger (no job needs to have run)."""
    return (await tier_standings(svc, [member_id]))[member_id]


async def earning_tier(svc: Services, member_id: int) -> Tier | None:
    """The tier whose multiplier an earning gets now; None without tiers (x1)."""
    held = await held_tiers(await ladder(), [member_id], svc.clock(), svc.tier_window)
    return held[member_id]


def multiplier_of(tier: Tier | None) -> Decimal | None:
    """The multiplier to record on a ledger entry earned at ``tier``; None for x1."""
    return None if tier is None else tier.multiplier


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
        raise NotFound(msg("No tier with id {tier_id!r}.", tier_id=tier_id))
    try:
        rate = None if multiplier is None else Decimal(str(multiplier)).quantize(Decimal("0.001"))
    except InvalidOperation:
        raise Invalid("multiplier", msg("multiplier must be a number like 1.25.")) from None
    values = {t.id: tier_values(t) for t in ladder}
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
    snapshots.changed()
    return target


def tier_values(tier: Tier) -> TierValues:
    """A stored tier as plain values (what validation and the backtest take)."""
    return TierValues(tier.name, tier.threshold, tier.multiplier, tier.entry_bonus)
