"""What a badge is: the metric its criterion counts, its levels and bonuses, its art.

Plain values, so the catalog (``badges.catalog``), the defaults
(``badges.defaults``) and the API share one description of a badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MAX_LEVELS", "Art", "BadgeSpec", "Metric"]

MAX_LEVELS = 5


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
    """How the badge is drawn: an outline shape, a glyph, and two #rrggbb colours."""

    shape: str
    glyph: str
    primary: str
    secondary: str


@dataclass(frozen=True, slots=True)
class BadgeSpec:
    """A badge definition: one threshold and one bonus per level, lowest first."""

    slug: str
    name: str
    description: str
    metric: Metric
    thresholds: tuple[int, ...]
    bonus_points: tuple[int, ...]
    art: Art
    revocable: bool = False
    enabled: bool = True
