"""The badges every installation starts with (admins may change or disable them)."""

from __future__ import annotations

from badges.spec import Art, BadgeSpec, Metric

__all__ = ["DEFAULT_BADGES"]


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
