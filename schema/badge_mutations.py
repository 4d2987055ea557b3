"""Badge definitions by admins, revocation by moderators, Open Badges export."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import strawberry

from badges import Art, BadgeSpec
from badges import Metric as MetricRow
from schema.badges import Badge, BadgeMetric, MemberBadge
from schema.context import Info
from schema.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from schema.members import Member, load_member
from schema.runner import field, mutation
from server import actions

__all__ = ["BadgeArtQueries", "BadgeMutations"]


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

    def spec(self) -> Art:
        return Art(
            shape=self.shape.strip(),
            glyph=self.glyph.strip(),
            primary=self.primary_color.strip(),
            secondary=self.secondary_color.strip(),
        )


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

    def changes(self) -> dict[str, Any]:
        """The fields given, in the use case's terms."""
        given: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "metric": None if self.metric is None else MetricRow(self.metric.value),
            "thresholds": None if self.levels is None else tuple(self.levels),
            "bonus_points": None if self.bonus_points is None else tuple(self.bonus_points),
            "art": None if self.art is None else self.art.spec(),
            "revocable": self.revocable,
            "enabled": self.enabled,
        }
        return {name: value for name, value in given.items() if value is not None}


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
    async def member(self, info: Info) -> Member:
        return await load_member(info, int(self.member_id))


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
    BadgeExported | ValidationError | PermissionDeniedError | NotFoundError,
    strawberry.union("ExportBadgeResult"),
]


def _base_url(info: Info) -> str:
    configured = info.context.services.public_url
    if configured:
        return configured
    request = info.context.request
    return "" if request is None else str(request.base_url).rstrip("/")


@strawberry.type
class BadgeArtQueries:
    @field(
        description="ADMIN: the image a design would draw, as a data: URL of a PNG (the size "
        "of a badge's imageUrl), before any badge has it: the bytes /badges/{slug}/{level}.png "
        "serves for a badge with this art and as many levels. A bad design is a "
        "BAD_USER_INPUT error naming the field (art.shape, art.primaryColor, ...)."
    )
    async def badge_art_preview(
        self,
        info: Info,
        art: BadgeArtInput,
        level: int = 1,
        levels: Annotated[
            int,
            strawberry.argument(
                description="How many levels the badge has: its stars and the metal of each "
                "level depend on it."
            ),
        ] = 3,
    ) -> str:
        png = await actions.badge_art_preview(
            info.context.principal, art.spec(), level=level, levels=levels
        )
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@strawberry.type
class BadgeMutations:
    @mutation(description="ADMIN: a new badge; members earn it from their next activity.")
    async def define_badge(self, info: Info, input: DefineBadgeInput) -> BadgeResult:
        spec = BadgeSpec(
            slug=input.slug.strip(),
            name=input.name,
            description=input.description,
            metric=MetricRow(input.metric.value),
            thresholds=tuple(input.levels),
            bonus_points=tuple(input.bonus_points),
            art=input.art.spec(),
            revocable=input.revocable,
            enabled=input.enabled,
        )
        row = await actions.define_badge(info.context.principal, spec)
        return BadgeSaved(badge=Badge.of(row))

    @mutation(
        description="ADMIN: change or disable a badge. Levels already held are kept, unless the "
        "badge is revocable and the member falls below a new threshold."
    )
    async def update_badge(self, info: Info, input: UpdateBadgeInput) -> BadgeResult:
        row = await actions.update_badge(
            info.context.principal, input.slug.strip(), input.changes()
        )
        return BadgeSaved(badge=Badge.of(row))

    @mutation(
        description="MODERATOR: take a badge away from a member, with a reason. Its bonus points "
        "are taken back; the rules do not give it back. Repeating it changes nothing."
    )
    async def revoke_badge(self, info: Info, input: RevokeBadgeInput) -> RevokeBadgeResult:
        done = await actions.revoke_badge(
            info.context.services,
            info.context.principal,
            member_id=input.member_id,
            slug=input.badge_slug,
            reason=input.reason,
        )
        return BadgeRevoked(
            badge=Badge.of(done.badge), levels_revoked=done.levels, member_id=input.member_id
        )

    @mutation(
        description="SHOPPER: export a held badge as an Open Badges 2.0 assertion, to show it "
        "elsewhere (a backpack, a profile). Exporting again returns the same assertion."
    )
    async def export_badge(self, info: Info, badge_slug: str) -> ExportBadgeResult:
        done = await actions.export_badge(info.context.principal, badge_slug)
        base = f"{_base_url(info)}/openbadges/assertions/{done.token}"
        return BadgeExported(
            badge=MemberBadge.of(done.grant), assertion_url=base, baked_image_url=base + ".png"
        )
