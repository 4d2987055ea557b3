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

Tiers are computed from the ledger on read, so no nightly job is needed for
reads to be right; a change seen is recorded once in ``TierChange``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Case, F, Q, Value, When
from tortoise.functions import Min, Sum
from tortoise.models import Model

from server.rewards.errors import Invalid
from server.rewards.ledger import LedgerEntry

__all__ = [
    "DEFAULT_TIERS",
    "ROLLING_DAYS",
    "Standing",
    "Tier",
    "TierChange",
    "TierValues",
    "TierWindow",
    "apply_multiplier",
    "ensure_tiers",
    "standing_of",
    "standings_of",
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
        raise Invalid("threshold", "The lowest tier must start at 0 qualifying points.")
    names = [v.name.strip() for v in values]
    if any(not 1 <= len(n) <= 40 for n in names) or len(set(names)) != len(names):
        raise Invalid("name", "Tier names must be 1 to 40 characters and distinct.")
    for lower, higher in itertools.pairwise(values):
        if higher.threshold <= lower.threshold:
            raise Invalid("threshold", "Each tier's threshold must be above the one below.")
        if higher.multiplier < lower.multiplier:
            raise Invalid("multiplier", "A higher tier cannot earn less than a lower one.")
    for v in values:
        if not Decimal(1) <= v.multiplier <= Decimal(10):
            raise Invalid("multiplier", "multiplier must be between 1 and 10.")
        if not 0 <= v.entry_bonus <= 100_000:
            raise Invalid("entryBonus", "entryBonus must be between 0 and 100,000.")
        if v.threshold > 10_000_000:
            raise Invalid("threshold", "threshold must be at most 10,000,000.")
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


async def tiers() -> list[Tier]:
    """Lowest first. Empty only before seeding: every member then earns x1."""
    return await Tier.all().order_by("threshold")


def apply_multiplier(points: int, tier: Tier | None) -> int:
    """Points earned at a tier, rounded down."""
    if tier is None or points <= 0:
        return points
    return int((Decimal(points) * tier.multiplier).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier | None
    next: Tier | None
    qualifying_points: int
    points_to_next: int
    points_to_keep: int
    window_ends_at: datetime


def _tier_for(ladder: Sequence[Tier], points: int) -> Tier | None:
    reached = [t for t in ladder if t.threshold <= points]
    return reached[-1] if reached else None


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


async def standing_of(member_id: int, now: datetime, window: TierWindow) -> Standing:
    """The member's tier now; ``tier`` is None only when no tiers are defined."""
    return (await standings_of(await tiers(), [member_id], now, window))[member_id]


async def standings_of(
    ladder: Sequence[Tier], member_ids: Sequence[int], now: datetime, window: TierWindow
) -> dict[int, Standing]:
    """Each member's tier now on ``ladder`` (lowest first), in at most two queries however
    many members: their qualifying points grouped by member, then (rolling window) the
    points that leave the window first. No ladder: every ``tier`` is None."""
    wanted = list(dict.fromkeys(member_ids))
    if not ladder:
        empty = Standing(None, None, 0, 0, 0, now + timedelta(days=ROLLING_DAYS))
        return dict.fromkeys(wanted, empty)
    if not wanted:
        return {}
    until = now + timedelta(seconds=1)
    out: dict[int, Standing] = {}
    if window is TierWindow.CALENDAR:
        this_start, last_start = _year_start(now.year), _year_start(now.year - 1)
        sums = await _grouped(
            wanted,
            last_start,
            this_year=Sum("lifetime_delta", _filter=Q(occurred_at__gte=this_start)),
            last_year=Sum("lifetime_delta", _filter=Q(occurred_at__lt=this_start)),
            until=until,
        )
        for member_id in wanted:
            this_year, last_year = (_int(x) for x in sums.get(member_id, (0, 0)))
            held = max(
                (t for t in (_tier_for(ladder, this_year), _tier_for(ladder, last_year)) if t),
                key=lambda t: t.threshold,
                default=None,
            )
            keep = 0 if held is None else max(0, held.threshold - this_year)
            out[member_id] = _standing(ladder, held, this_year, keep, _year_start(now.year + 1))
        return out
    since = now - timedelta(days=ROLLING_DAYS)
    sums = await _grouped(
        wanted,
        since,
        points=Sum("lifetime_delta", _filter=Q(occurred_at__lt=until)),
        oldest=Min("occurred_at"),
    )
    oldest = {m: o for m, (_, o) in sums.items() if isinstance(o, datetime)}
    leaving = await _leaving_first(oldest, since)
    for member_id in wanted:
        points = _int(sums.get(member_id, (0, None))[0])
        held = _tier_for(ladder, points)
        ends = oldest.get(member_id, now) + timedelta(days=ROLLING_DAYS)
        gone = leaving.get(member_id, 0)
        keep = 0 if held is None else max(0, held.threshold - (points - gone))
        out[member_id] = _standing(ladder, held, points, keep, ends)
    return out


def _standing(
    ladder: Sequence[Tier], held: Tier | None, points: int, keep: int, ends: datetime
) -> Standing:
    above = [t for t in ladder if held is None or t.threshold > held.threshold]
    following = above[0] if above else None
    to_next = 0 if following is None else max(0, following.threshold - points)
    return Standing(held, following, points, to_next, keep, ends)


def _int(value: object) -> int:
    return 0 if value is None else int(str(value))


async def _grouped(
    member_ids: list[int], since: datetime, *, until: datetime | None = None, **columns: Any
) -> dict[int, tuple[Any, ...]]:
    """One grouped query over the members' qualifying entries from ``since``: per member,
    the ``columns`` (aggregates) in the order given."""
    query = LedgerEntry.filter(member_id__in=member_ids, qualifying=True, occurred_at__gte=since)
    if until is not None:
        query = query.filter(occurred_at__lt=until)
    rows = await query.group_by("member_id").annotate(**columns).values_list("member_id", *columns)
    return {int(row[0]): tuple(row[1:]) for row in rows}


async def _leaving_first(oldest: dict[int, datetime], since: datetime) -> dict[int, int]:
    """Per member, the qualifying points that leave the rolling window first: those earned
    within a second of their oldest one in it. One query: each member's bound comes from a
    CASE on the member (its ELSE column types the bounds on PostgreSQL)."""
    if not oldest:
        return {}
    # When() runs any Expression as ``then``; its annotation leaves out Value.
    bound = Case(
        *(
            When(member_id=m, then=Value(o + timedelta(seconds=1)))  # type: ignore[arg-type]
            for m, o in oldest.items()
        ),
        default=F("occurred_at"),
    )
    rows = await (
        LedgerEntry.filter(
            member_id__in=list(oldest),
            qualifying=True,
            occurred_at__gte=since,
            occurred_at__lt=bound,
        )
        .group_by("member_id")
        .annotate(points=Sum("lifetime_delta"))
        .values_list("member_id", "points")
    )
    return {int(m): _int(p) for m, p in rows}
