"""The badge catalog as data: default definitions, validation, run-time changes.

A definition names a metric over the member's history, the threshold of each
level (lowest first), the points each level grants, whether the badge is taken
back when its criterion stops holding, and an art spec for its image.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError

from badges.art import GLYPHS, SHAPES
from badges.models import BadgeChange, BadgeDefinition
from server.rewards.errors import Conflict, Invalid, NotFound

__all__ = [
    "DEFAULT_BADGES",
    "MAX_LEVELS",
    "Art",
    "BadgeSpec",
    "Metric",
    "create_badge",
    "ensure_badges",
    "spec_of",
    "update_badge",
    "validate",
]

MAX_LEVELS = 5
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Metric(StrEnum):
    """What a criterion counts; each is computed from SQL in ``badges.metrics``."""

    REVIEWS = "REVIEWS"  # approved reviews, with or without photo
    PHOTO_REVIEWS = "PHOTO_REVIEWS"
    SHARES = "SHARES"
    REFERRALS = "REFERRALS"  # referrals paid out
    PURCHASES = "PURCHASES"  # orders not fully refunded
    AMOUNT_SPENT = "AMOUNT_SPENT"  # whole currency units, refunds deducted
    LIFETIME_POINTS = "LIFETIME_POINTS"
    ACTIVE_DAYS = "ACTIVE_DAYS"  # UTC days with a counted activity
    ACTIVE_DAY_STREAK = "ACTIVE_DAY_STREAK"  # longest run of consecutive active days
    CONTESTS_WON = "CONTESTS_WON"


@dataclass(frozen=True, slots=True)
class Art:
    shape: str
    glyph: str
    primary: str
    secondary: str


@dataclass(frozen=True, slots=True)
class BadgeSpec:
    slug: str
    name: str
    description: str
    metric: Metric
    thresholds: tuple[int, ...]
    bonus_points: tuple[int, ...]
    art: Art
    revocable: bool = False
    enabled: bool = True


def _badge(
    slug: str,
    name: str,
    description: str,
    metric: Metric,
    levels: dict[int, int],
    art: tuple[str, str, str, str],
    *,
    revocable: bool = False,
) -> BadgeSpec:
    return BadgeSpec(
        slug=slug,
        name=name,
        description=description,
        metric=metric,
        thresholds=tuple(levels),
        bonus_points=tuple(levels.values()),
        art=Art(*art),
        revocable=revocable,
    )


# threshold -> bonus points, per level.
DEFAULT_BADGES: tuple[BadgeSpec, ...] = (
    _badge(
        "first-review",
        "First review",
        "Wrote a first review that a moderator approved.",
        Metric.REVIEWS,
        {1: 10},
        ("circle", "pen", "#2f6fdf", "#cfe0ff"),
        revocable=True,
    ),
    _badge(
        "prolific-reviewer",
        "Prolific reviewer",
        "Approved reviews: 5, then 25, then 100.",
        Metric.REVIEWS,
        {5: 25, 25: 100, 100: 300},
        ("shield", "book", "#6b3fc4", "#e6dcff"),
        revocable=True,
    ),
    _badge(
        "photo-reviewer",
        "Photo reviewer",
        "Approved reviews with a photo: 1, 10, 50.",
        Metric.PHOTO_REVIEWS,
        {1: 15, 10: 60, 50: 200},
        ("hexagon", "camera", "#d9480f", "#ffe3d1"),
        revocable=True,
    ),
    _badge(
        "first-share",
        "Spread the word",
        "Shared one of the shop's pages for the first time.",
        Metric.SHARES,
        {1: 5},
        ("heptagon", "megaphone", "#0b8a7a", "#c9f2ea"),
    ),
    _badge(
        "sharer",
        "Sharer",
        "Shares of the shop's pages: 10, 50, 200.",
        Metric.SHARES,
        {10: 25, 50: 100, 200: 300},
        ("diamond", "share", "#0a7abf", "#cdeaff"),
    ),
    _badge(
        "referrer",
        "Ambassador",
        "Friends referred whose first order became final: 1, 5, 20.",
        Metric.REFERRALS,
        {1: 25, 5: 100, 20: 400},
        ("octagon", "people", "#b02a5b", "#ffd6e5"),
        revocable=True,
    ),
    _badge(
        "first-purchase",
        "Welcome aboard",
        "Placed a first order.",
        Metric.PURCHASES,
        {1: 5},
        ("burst", "bag", "#3d8b37", "#d8f5d2"),
        revocable=True,
    ),
    _badge(
        "loyal-customer",
        "Loyal customer",
        "Orders kept: 3, 10, 50.",
        Metric.PURCHASES,
        {3: 15, 10: 50, 50: 200},
        ("pentagon", "heart", "#c0392b", "#ffd9d4"),
        revocable=True,
    ),
    _badge(
        "big-spender",
        "Big spender",
        "Total spent, refunds deducted: 100, 1,000, 5,000.",
        Metric.AMOUNT_SPENT,
        {100: 20, 1_000: 100, 5_000: 500},
        ("square", "coins", "#3b4252", "#ffe8a3"),
        revocable=True,
    ),
    _badge(
        "on-a-roll",
        "On a roll",
        "Active on consecutive days: 3, 7, 30 in a row.",
        Metric.ACTIVE_DAY_STREAK,
        {3: 10, 7: 30, 30: 150},
        ("flower", "flame", "#e8590c", "#fff0c2"),
    ),
    _badge(
        "regular",
        "Regular",
        "Days with an activity: 10, 50, 200.",
        Metric.ACTIVE_DAYS,
        {10: 15, 50: 60, 200: 250},
        ("cog", "calendar", "#1c7c54", "#d3f4e4"),
    ),
    _badge(
        "point-collector",
        "Point collector",
        "Points earned over time: 500, 2,000, 10,000.",
        Metric.LIFETIME_POINTS,
        {500: 25, 2_000: 100, 10_000: 500},
        ("star", "gem", "#1864ab", "#d0ebff"),
    ),
    _badge(
        "contest-winner",
        "Contest winner",
        "Won a community contest: 1, 3, 10 times.",
        Metric.CONTESTS_WON,
        {1: 50, 3: 150, 10: 500},
        ("medal", "trophy", "#a61e4d", "#ffe066"),
    ),
)


def validate(spec: BadgeSpec) -> BadgeSpec:
    """Raise ``Invalid`` naming the field when a definition cannot be used."""
    if not _SLUG.match(spec.slug):
        raise Invalid("slug", "slug: 3-48 lowercase letters, digits and dashes.")
    if not 1 <= len(spec.name.strip()) <= 60:
        raise Invalid("name", "name must be 1 to 60 characters.")
    if len(spec.description) > 300:
        raise Invalid("description", "description must be at most 300 characters.")
    if not 1 <= len(spec.thresholds) <= MAX_LEVELS:
        raise Invalid("levels", f"A badge has 1 to {MAX_LEVELS} levels.")
    if any(t < 1 or t > 10_000_000 for t in spec.thresholds):
        raise Invalid("levels", "Thresholds must be between 1 and 10,000,000.")
    if any(a >= b for a, b in zip(spec.thresholds, spec.thresholds[1:], strict=False)):
        raise Invalid("levels", "Thresholds must rise from one level to the next.")
    if len(spec.bonus_points) != len(spec.thresholds):
        raise Invalid("bonusPoints", "Give one bonus per level (0 for none).")
    if any(not 0 <= b <= 100_000 for b in spec.bonus_points):
        raise Invalid("bonusPoints", "A level's bonus must be between 0 and 100,000 points.")
    if spec.art.shape not in SHAPES:
        raise Invalid("art.shape", "shape must be one of " + ", ".join(SHAPES) + ".")
    if spec.art.glyph not in GLYPHS:
        raise Invalid("art.glyph", "glyph must be one of " + ", ".join(GLYPHS) + ".")
    for name in ("primary", "secondary"):
        if not _COLOUR.match(getattr(spec.art, name)):
            raise Invalid(f"art.{name}Color", f"{name}Color must look like #1a2b3c.")
    return spec


def spec_of(row: BadgeDefinition) -> BadgeSpec:
    return BadgeSpec(
        slug=row.slug,
        name=row.name,
        description=row.description,
        metric=Metric(row.metric),
        thresholds=tuple(row.thresholds),
        bonus_points=tuple(row.bonus_points),
        art=Art(**row.art),
        revocable=row.revocable,
        enabled=row.enabled,
    )


def _columns(spec: BadgeSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description.strip(),
        "metric": spec.metric.value,
        "thresholds": list(spec.thresholds),
        "bonus_points": list(spec.bonus_points),
        "revocable": spec.revocable,
        "art": asdict(spec.art),
        "enabled": spec.enabled,
    }


async def ensure_badges() -> None:
    """Insert each default badge that is missing; existing definitions are kept."""
    for spec in DEFAULT_BADGES:
        if await BadgeDefinition.exists(slug=spec.slug):
            continue
        with contextlib.suppress(IntegrityError):  # seeded concurrently by another process
            await BadgeDefinition.create(slug=spec.slug, **_columns(validate(spec)))


async def create_badge(spec: BadgeSpec, actor: str) -> BadgeDefinition:
    validate(spec)
    try:
        row = await BadgeDefinition.create(slug=spec.slug, updated_by=actor, **_columns(spec))
    except IntegrityError:
        raise Conflict(f"A badge with slug {spec.slug!r} exists already.") from None
    await BadgeChange.create(slug=spec.slug, actor=actor, changes={"created": _columns(spec)})
    return row


async def update_badge(slug: str, changes: dict[str, Any], actor: str) -> BadgeDefinition:
    """Apply ``changes`` (BadgeSpec field names) to a definition; log what changed.

    Levels already held stay held: new thresholds count from the next evaluation,
    and only a revocable badge can be taken back by them.
    """
    row = await BadgeDefinition.get_or_none(slug=slug)
    if row is None:
        raise NotFound(f"No badge {slug!r}.")
    before = spec_of(row)
    after = validate(replace(before, **changes))
    old, new = _columns(before), _columns(after)
    diff = {k: [old[k], new[k]] for k in new if old[k] != new[k]}
    if diff:
        version = row.art_version + (1 if "art" in diff else 0)
        await BadgeDefinition.filter(id=row.id).update(updated_by=actor, art_version=version, **new)
        await BadgeChange.create(slug=slug, actor=actor, changes=diff)
        await row.refresh_from_db()
    return row
