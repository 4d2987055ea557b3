"""Tiers: the ladder, a member's progress, and ``updateTier``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import arguments, mutation
from server import actions
from server.rewards.standings import Standing
from server.rewards.tiers import Tier as TierRow

__all__ = ["Tier", "TierMutations", "TierProgress", "TierQueries"]


@strawberry.type
class Tier:
    id: strawberry.ID
    name: str
    threshold: int = strawberry.field(
        description="Qualifying points needed within the tier window to hold this tier."
    )
    multiplier: float = strawberry.field(description="Earning multiplier, e.g. 1.25.")
    entry_bonus: int = strawberry.field(
        description="Points granted once per window on reaching this tier."
    )

    @classmethod
    def of(cls, row: TierRow) -> Tier:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            threshold=row.threshold,
            multiplier=float(row.multiplier),
            entry_bonus=row.entry_bonus,
        )

    @classmethod
    def held(cls, row: TierRow | None) -> Tier:
        """The tier a member holds; tiers are seeded, so a member without one is a bug."""
        if row is None:
            raise LookupError("no tiers are defined")
        return cls.of(row)


@strawberry.type
class TierProgress:
    current: Tier
    next: Tier | None = strawberry.field(description="Null at the top tier.")
    qualifying_points: int
    points_to_next: int = strawberry.field(
        description="Points still to earn to reach next; 0 at the top tier."
    )
    points_to_keep: int = strawberry.field(
        description="Points still to earn before windowEndsAt to keep the current tier."
    )
    window_ends_at: datetime

    @classmethod
    def of(cls, standing: Standing) -> TierProgress:
        return cls(
            current=Tier.held(standing.tier),
            next=None if standing.next is None else Tier.of(standing.next),
            qualifying_points=standing.qualifying_points,
            points_to_next=standing.points_to_next,
            points_to_keep=standing.points_to_keep,
            window_ends_at=standing.window_ends_at,
        )


@strawberry.input
class UpdateTierInput:
    tier_id: strawberry.ID
    name: str | None = None
    threshold: int | None = None
    multiplier: float | None = None
    entry_bonus: int | None = None


@strawberry.type
class TierSaved:
    tier: Tier


TierResult = Annotated[
    TierSaved | ValidationError | PermissionDeniedError | NotFoundError,
    strawberry.union("TierResult"),
]


@strawberry.type
class TierQueries:
    @strawberry.field(description="Every tier, lowest first.")
    async def tiers(self) -> list[Tier]:
        return [Tier.of(t) for t in await actions.tier_ladder()]


@strawberry.type
class TierMutations:
    @mutation(description="ADMIN: change a tier; the ladder stays valid.")
    async def update_tier(self, info: Info, input: UpdateTierInput) -> TierResult:
        row = await actions.update_tier(info.context.principal, **arguments(input))
        return TierSaved(tier=Tier.of(row))
