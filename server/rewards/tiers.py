"""Tiers as data: qualifying points in a window decide a member's tier.

Qualifying points are points earned (ledger entries flagged ``qualifying``:
activities, referrals, badge bonuses, and admin adjustments only when flagged),
net of their reversals, inside the tier window:

* ``rolling`` (default): the last 365 days. The tier follows those points, so a
  tier is lost when old points leave the window; ``windowEndsAt`` is when the
  oldest of them leave, and ``pointsToKeep`` what must be earned by then.
* ``calendar``: a tier reached in a calendar year is held through the next one;
  ``windowEndsAt`` is the end of this year, and ``pointsToKeep`` what must still
  be earned this year to hold the tier next year too.

Tiers are computed from the ledger on read (``server.rewards.standings``), so no
nightly job is needed for reads to be right; a change seen is recorded once in
``TierChange``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from server.rewards import snapshots
from server.rewards.errors import Invalid
from server.rewards.snapshots import Snapshot
from server.rewards.text import msg
from server.rewards.validation import clean_text

__all__ = [
    "DEFAULT_TIERS",
    "ROLLING_DAYS",
    "Tier",
    "TierChange",
    "TierValues",
    "TierWindow",
    "ensure_tiers",
    "ladder",
    "tiers",
    "validate_tiers",
]

ROLLING_DAYS = 365


class TierWindow(StrEnum):
    ROLLING = "rolling"
    CALENDAR = "calendar"


class Tier(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=40, unique=True)
    threshold = fields.IntField(unique=True)
    multiplier = fields.DecimalField(max_digits=6, decimal_places=3)
    # Points granted once per window on reaching this tier (0: none).
    entry_bonus = fields.IntField(default=0)
    updated_by = fields.CharField(max_length=128, default="defaults")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tiers"


class TierChange(Model):
    """History: a member's tier as first seen different, with the points behind it."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField(db_index=True)
    from_tier_id = fields.IntField(null=True)
    to_tier_id = fields.IntField()
    qualifying_points = fields.IntField()
    bonus_points = fields.IntField(default=0)
    created_at = fields.DatetimeField()

    class Meta:
        table = "tier_changes"


@dataclass(frozen=True, slots=True)
class TierValues:
    name: str
    threshold: int
    multiplier: Decimal
    entry_bonus: int = 0


DEFAULT_TIERS: tuple[TierValues, ...] = (
    TierValues("Bronze", 0, Decimal("1.0")),
    TierValues("Silver", 500, Decimal("1.1")),
    TierValues("Gold", 2_000, Decimal("1.25")),
    TierValues("Platinum", 5_000, Decimal("1.5")),
)


def validate_tiers(values: Sequence[TierValues]) -> Sequence[TierValues]:
    """The lowest tier starts at 0; thresholds rise; multipliers 1 to 10 and never fall."""
    if not values or values[0].threshold != 0:
        raise Invalid("threshold", msg("The lowest tier must start at 0 qualifying points."))
    names = [clean_text("name", v.name, max_length=40, display=True) for v in values]
    if len(set(names)) != len(names):
        raise Invalid("name", msg("Tier names must be 1 to 40 characters and distinct."))
    for lower, higher in itertools.pairwise(values):
        if higher.threshold <= lower.threshold:
            raise Invalid("threshold", msg("Each tier's threshold must be above the one below."))
        if higher.multiplier < lower.multiplier:
            raise Invalid("multiplier", msg("A higher tier cannot earn less than a lower one."))
    for v in values:
        if not Decimal(1) <= v.multiplier <= Decimal(10):
            raise Invalid("multiplier", msg("multiplier must be between 1 and 10."))
        if not 0 <= v.entry_bonus <= 100_000:
            raise Invalid("entryBonus", msg("entryBonus must be between 0 and 100,000."))
        if v.threshold > 10_000_000:
            raise Invalid("threshold", msg("threshold must be at most 10,000,000."))
    return values


async def ensure_tiers() -> None:
    """Seed the default tiers when there are none (tiers already there are kept)."""
    if await Tier.exists():
        return
    for v in validate_tiers(DEFAULT_TIERS):
        with contextlib.suppress(IntegrityError):  # seeded concurrently by another process
            await Tier.create(
                name=v.name,
                threshold=v.threshold,
                multiplier=v.multiplier,
                entry_bonus=v.entry_bonus,
            )
    snapshots.changed()


async def tiers() -> list[Tier]:
    """Lowest first. Empty only before seeding: every member then earns x1."""
    return await Tier.all().order_by("threshold")


_LADDER = Snapshot(tiers)


async def ladder() -> list[Tier]:
    """``tiers()`` as earnings and standings read it: a shared snapshot, read it only."""
    return await _LADDER.get()
