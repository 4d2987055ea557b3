"""Badges: the catalog, badges held, progress, and the ``badgeAwarded`` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum

import strawberry
from graphql import GraphQLError

from badges import Grant
from badges import Progress as ProgressRow
from badges.models import BadgeDefinition
from badges.openbadges import level_name
from schema.context import Info
from server import actions
from server.i18n import render
from server.rewards.errors import RewardsError

__all__ = [
    "Badge",
    "BadgeMetric",
    "BadgeProgress",
    "BadgeQueries",
    "BadgeSubscriptions",
    "MemberBadge",
]


def _image_url(row: BadgeDefinition, level: int) -> str:
    # The art version in the URL: a changed design is a new URL, so images cache for long.
    return f"/badges/{row.slug}/{level}.png?v={row.art_version}"


@strawberry.enum(description="What a badge's criterion counts.")
class BadgeMetric(Enum):
    REVIEWS = "REVIEWS"
    PHOTO_REVIEWS = "PHOTO_REVIEWS"
    SHARES = "SHARES"
    REFERRALS = "REFERRALS"
    PURCHASES = "PURCHASES"
    AMOUNT_SPENT = "AMOUNT_SPENT"
    LIFETIME_POINTS = "LIFETIME_POINTS"
    ACTIVE_DAYS = "ACTIVE_DAYS"
    ACTIVE_DAY_STREAK = "ACTIVE_DAY_STREAK"
    CONTESTS_WON = "CONTESTS_WON"


@strawberry.type
class BadgeArt:
    shape: str
    glyph: str
    primary_color: str
    secondary_color: str


@strawberry.type
class Badge:
    row: strawberry.Private[BadgeDefinition]
    slug: str
    name: str
    description: str

    levels: list[int] = strawberry.field(
        description="Thresholds of each level, lowest first; one entry for a single-level badge."
    )
    bonus_points: list[int] = strawberry.field(description="Points granted on reaching each level.")
    metric: BadgeMetric
    revocable: bool = strawberry.field(
        description="Taken back when its criterion stops holding (e.g. a refund)."
    )
    enabled: bool
    art: BadgeArt

    @strawberry.field(description="Absolute or root-relative URL of the badge's PNG image.")
    def image_url(self, level: int = 1) -> str:
        return _image_url(self.row, max(1, min(level, len(self.row.thresholds))))

    @classmethod
    def of(cls, row: BadgeDefinition) -> Badge:
        art = row.art
        return cls(
            row=row,
            slug=row.slug,
            name=row.name,
            description=row.description,
            levels=list(row.thresholds),
            bonus_points=list(row.bonus_points),
            metric=BadgeMetric(row.metric),
            revocable=row.revocable,
            enabled=row.enabled,
            art=BadgeArt(
                shape=art["shape"],
                glyph=art["glyph"],
                primary_color=art["primary"],
                secondary_color=art["secondary"],
            ),
        )


@strawberry.type
class MemberBadge:
    badge: Badge
    level: int = strawberry.field(description="1-based level now held.")
    level_name: str = strawberry.field(
        description="Bronze, Silver, Gold (Platinum, Diamond); empty for a single-level badge."
    )
    awarded_at: datetime
    image_url: str = strawberry.field(description="The image of the level held.")

    @classmethod
    def of(cls, grant: Grant) -> MemberBadge:
        row = grant.badge
        return cls(
            badge=Badge.of(row),
            level=grant.level,
            level_name=level_name(grant.level, len(row.thresholds)),
            awarded_at=grant.award.awarded_at,
            image_url=_image_url(row, grant.level),
        )


@strawberry.type(description='Where a member stands on one badge: "3 more reviews to Silver".')
class BadgeProgress:
    badge: Badge
    level: int = strawberry.field(description="Level held now; 0 for none.")
    value: int = strawberry.field(description="The member's current value of the badge's metric.")
    next_threshold: int | None = strawberry.field(
        description="Threshold of the next level; null when every level is held."
    )
    next_level_name: str | None = strawberry.field(
        description="Name of the next level (Bronze, Silver, Gold...)."
    )
    remaining: int = strawberry.field(
        description="How much more is needed for the next level; 0 when all held."
    )
    percent: int = strawberry.field(description="0 to 100, towards the next level.")

    @classmethod
    def of(cls, row: ProgressRow) -> BadgeProgress:
        levels = len(row.badge.thresholds)
        goal = row.next_threshold
        return cls(
            badge=Badge.of(row.badge),
            level=row.level,
            value=row.value,
            next_threshold=goal,
            next_level_name=None if row.level >= levels else level_name(row.level + 1, levels),
            remaining=0 if goal is None else max(0, goal - row.value),
            percent=row.percent,
        )


@strawberry.type
class BadgeQueries:
    @strawberry.field(description="Every enabled badge, in catalog order.")
    async def badges(self) -> list[Badge]:
        return [Badge.of(r) for r in await actions.badge_catalog()]


@strawberry.type
class BadgeSubscriptions:
    @strawberry.subscription(description="SHOPPER: each badge the viewer earns or levels up.")
    async def badge_awarded(self, info: Info) -> AsyncGenerator[MemberBadge, None]:
        try:
            awards = actions.badge_awards(info.context.services, info.context.principal)
        except RewardsError as exc:
            raise GraphQLError(render(exc.text), extensions={"code": "FORBIDDEN"}) from None
        async for grant in awards:
            yield MemberBadge.of(grant)
