"""Badges: the catalog, held badges and progress, definitions by admins, revocation,
Open Badges export, and the ``badgeAwarded`` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from graphql import GraphQLError

from badges import Art, BadgeSpec, Grant
from badges import Metric as MetricRow
from badges import Progress as ProgressRow
from badges.models import BadgeDefinition
from badges.openbadges import level_name
from schema.context import Info
from schema.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    as_error,
)
from server import actions
from server.rewards.errors import RewardsError

if TYPE_CHECKING:
    from schema.members import Member

__all__ = [
    "Badge",
    "BadgeMutations",
    "BadgeProgress",
    "BadgeQueries",
    "BadgeSubscriptions",
    "MemberBadge",
    "member_badge",
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

    @strawberry.field
    def slug(self) -> str:
        return self.row.slug

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field(description="Absolute or root-relative URL of the badge's PNG image.")
    def image_url(self, level: int = 1) -> str:
        return _image_url(self.row, max(1, min(level, len(self.row.thresholds))))

    @strawberry.field(
        description="Thresholds of each level, lowest first; one entry for a single-level badge."
    )
    def levels(self) -> list[int]:
        return list(self.row.thresholds)

    @strawberry.field(description="Points granted on reaching each level.")
    def bonus_points(self) -> list[int]:
        return list(self.row.bonus_points)

    @strawberry.field
    def metric(self) -> BadgeMetric:
        return BadgeMetric(self.row.metric)

    @strawberry.field(description="Taken back when its criterion stops holding (e.g. a refund).")
    def revocable(self) -> bool:
        return self.row.revocable

    @strawberry.field
    def enabled(self) -> bool:
        return self.row.enabled

    @strawberry.field
    def art(self) -> BadgeArt:
        art = self.row.art
        return BadgeArt(
            shape=art["shape"],
            glyph=art["glyph"],
            primary_color=art["primary"],
            secondary_color=art["secondary"],
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


def member_badge(grant: Grant) -> MemberBadge:
    row = grant.badge
    return MemberBadge(
        badge=Badge(row=row),
        level=grant.level,
        level_name=level_name(grant.level, len(row.thresholds)),
        awarded_at=grant.award.awarded_at,
        image_url=_image_url(row, grant.level),
    )


@strawberry.type(description='Where a member stands on one badge: "3 more reviews to Silver".')
class BadgeProgress:
    row: strawberry.Private[ProgressRow]

    @strawberry.field
    def badge(self) -> Badge:
        return Badge(row=self.row.badge)

    @strawberry.field(description="Level held now; 0 for none.")
    def level(self) -> int:
        return self.row.level

    @strawberry.field(description="The member's current value of the badge's metric.")
    def value(self) -> int:
        return self.row.value

    @strawberry.field(description="Threshold of the next level; null when every level is held.")
    def next_threshold(self) -> int | None:
        return self.row.next_threshold

    @strawberry.field(description="Name of the next level (Bronze, Silver, Gold...).")
    def next_level_name(self) -> str | None:
        levels = len(self.row.badge.thresholds)
        return None if self.row.level >= levels else level_name(self.row.level + 1, levels)

    @strawberry.field(description="How much more is needed for the next level; 0 when all held.")
    def remaining(self) -> int:
        goal = self.row.next_threshold
        return 0 if goal is None else max(0, goal - self.row.value)

    @strawberry.field(description="0 to 100, towards the next level.")
    def percent(self) -> int:
        return self.row.percent


def progress_list(rows: list[ProgressRow]) -> list[BadgeProgress]:
    return [BadgeProgress(row=r) for r in rows]


@strawberry.input
class BadgeArtInput:
    shape: str = strawberry.field(
        description="circle, square, diamond, pentagon, hexagon, heptagon, octagon, shield, "
        "star, flower, burst, cog or medal."
    )
    glyph: str = strawberry.field(
        description="pen, book, camera, megaphone, share, people, bag, heart, coins, flame, "
        "calendar, gem, trophy or star."
    )
    primary_color: str = strawberry.field(description="#rrggbb")
    secondary_color: str = strawberry.field(description="#rrggbb")


@strawberry.input
class DefineBadgeInput:
    slug: str
    name: str
    description: str = ""
    metric: BadgeMetric
    levels: list[int] = strawberry.field(description="Threshold of each level, lowest first.")
    bonus_points: list[int] = strawberry.field(description="Points granted at each level.")
    art: BadgeArtInput
    revocable: bool = False
    enabled: bool = True


@strawberry.input(description="Only the fields given change.")
class UpdateBadgeInput:
    slug: str
    name: str | None = None
    description: str | None = None
    metric: BadgeMetric | None = None
    levels: list[int] | None = None
    bonus_points: list[int] | None = None
    art: BadgeArtInput | None = None
    revocable: bool | None = None
    enabled: bool | None = None


@strawberry.type
class BadgeSaved:
    badge: Badge


BadgeResult = Annotated[
    BadgeSaved | ValidationError | PermissionDeniedError | NotFoundError | ConflictError,
    strawberry.union("BadgeResult"),
]


@strawberry.input
class RevokeBadgeInput:
    member_id: strawberry.ID
    badge_slug: str
    reason: str


@strawberry.type
class BadgeRevoked:
    badge: Badge
    levels_revoked: list[int] = strawberry.field(
        description="Levels taken away by this call; empty when already revoked."
    )
    member_id: strawberry.ID

    @strawberry.field
    async def member(self, info: Info) -> Annotated[Member, strawberry.lazy("schema.members")]:
        from schema.members import Member

        row = await info.context.loaders.member.load(int(self.member_id))
        if row is None:
            raise LookupError(f"no member {self.member_id}")
        return Member.of(row)


RevokeBadgeResult = Annotated[
    BadgeRevoked | ValidationError | PermissionDeniedError | NotFoundError,
    strawberry.union("RevokeBadgeResult"),
]


@strawberry.type
class BadgeExported:
    badge: MemberBadge
    assertion_url: str = strawberry.field(description="Open Badges 2.0 hosted assertion (JSON).")
    baked_image_url: str = strawberry.field(description="The PNG with the assertion baked in.")


ExportBadgeResult = Annotated[
    BadgeExported | PermissionDeniedError | NotFoundError,
    strawberry.union("ExportBadgeResult"),
]


def _art(art: BadgeArtInput) -> Art:
    return Art(
        shape=art.shape.strip(),
        glyph=art.glyph.strip(),
        primary=art.primary_color.strip(),
        secondary=art.secondary_color.strip(),
    )


def _base_url(info: Info) -> str:
    configured = info.context.services.public_url
    if configured:
        return configured
    request = info.context.request
    return "" if request is None else str(request.base_url).rstrip("/")


@strawberry.type
class BadgeQueries:
    @strawberry.field(description="Every enabled badge, in catalog order.")
    async def badges(self) -> list[Badge]:
        return [Badge(row=r) for r in await actions.badge_catalog()]


@strawberry.type
class BadgeMutations:
    @strawberry.mutation(
        description="ADMIN: a new badge; members earn it from their next activity."
    )
    async def define_badge(self, info: Info, input: DefineBadgeInput) -> BadgeResult:
        spec = BadgeSpec(
            slug=input.slug.strip(),
            name=input.name,
            description=input.description,
            metric=MetricRow(input.metric.value),
            thresholds=tuple(input.levels),
            bonus_points=tuple(input.bonus_points),
            art=_art(input.art),
            revocable=input.revocable,
            enabled=input.enabled,
        )
        try:
            row = await actions.define_badge(info.context.principal, spec)
        except RewardsError as exc:
            return cast(BadgeResult, as_error(exc))
        return BadgeSaved(badge=Badge(row=row))

    @strawberry.mutation(
        description="ADMIN: change or disable a badge. Levels already held are kept, unless the "
        "badge is revocable and the member falls below a new threshold."
    )
    async def update_badge(self, info: Info, input: UpdateBadgeInput) -> BadgeResult:
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("name", input.name),
                ("description", input.description),
                ("metric", None if input.metric is None else MetricRow(input.metric.value)),
                ("thresholds", None if input.levels is None else tuple(input.levels)),
                ("bonus_points", None if input.bonus_points is None else tuple(input.bonus_points)),
                ("art", None if input.art is None else _art(input.art)),
                ("revocable", input.revocable),
                ("enabled", input.enabled),
            )
            if value is not None
        }
        try:
            row = await actions.update_badge(info.context.principal, input.slug.strip(), changes)
        except RewardsError as exc:
            return cast(BadgeResult, as_error(exc))
        return BadgeSaved(badge=Badge(row=row))

    @strawberry.mutation(
        description="MODERATOR: take a badge away from a member, with a reason. Its bonus points "
        "are taken back; the rules do not give it back. Repeating it changes nothing."
    )
    async def revoke_badge(self, info: Info, input: RevokeBadgeInput) -> RevokeBadgeResult:
        try:
            outcome = await actions.revoke_badge(
                info.context.services,
                info.context.principal,
                member_id=input.member_id,
                slug=input.badge_slug,
                reason=input.reason,
            )
            badge = (await actions.badges_by_slug([input.badge_slug.strip()]))[
                input.badge_slug.strip()
            ]
        except RewardsError as exc:
            return cast(RevokeBadgeResult, as_error(exc))
        return BadgeRevoked(
            badge=Badge(row=badge),
            levels_revoked=[g.level for g in outcome.revoked],
            member_id=input.member_id,
        )

    @strawberry.mutation(
        description="SHOPPER: export a held badge as an Open Badges 2.0 assertion, to show it "
        "elsewhere (a backpack, a profile). Exporting again returns the same assertion."
    )
    async def export_badge(self, info: Info, badge_slug: str) -> ExportBadgeResult:
        try:
            done = await actions.export_badge(info.context.principal, badge_slug)
        except RewardsError as exc:
            return cast(ExportBadgeResult, as_error(exc))
        base = f"{_base_url(info)}/openbadges/assertions/{done.token}"
        return BadgeExported(
            badge=member_badge(done.grant), assertion_url=base, baked_image_url=base + ".png"
        )


@strawberry.type
class BadgeSubscriptions:
    @strawberry.subscription(description="SHOPPER: each badge the viewer earns or levels up.")
    async def badge_awarded(self, info: Info) -> AsyncGenerator[MemberBadge, None]:
        try:
            awards = actions.badge_awards(info.context.services, info.context.principal)
        except RewardsError as exc:
            raise GraphQLError(exc.message, extensions={"code": "FORBIDDEN"}) from None
        async for grant in awards:
            yield member_badge(grant)
