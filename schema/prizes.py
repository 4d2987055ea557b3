"""Prizes: the catalog and redemptions."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.context import Info
from schema.runner import field
from schema.shared import PageInfo
from schema.tiers import Tier
from server import actions
from server.rewards.prizes import Prize as PrizeRow

__all__ = ["Prize", "PrizeConnection", "PrizeKind", "PrizeQueries", "Redemption"]


@strawberry.enum
class PrizeKind(Enum):
    DISCOUNT_CODE = "DISCOUNT_CODE"
    GIFT_CARD = "GIFT_CARD"
    PHYSICAL = "PHYSICAL"
    DIGITAL = "DIGITAL"


@strawberry.enum
class RedemptionStatus(Enum):
    RESERVED = "RESERVED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


@strawberry.type
class Prize:
    row: strawberry.Private[PrizeRow]
    id: strawberry.ID
    name: str
    description: str
    cost: int
    stock_left: int | None = strawberry.field(description="Null for unlimited stock.")

    kind: PrizeKind
    per_member_limit: int | None
    available_from: datetime | None
    available_until: datetime | None
    archived: bool

    @strawberry.field(
        description="Root-relative URL of the prize's picture (a PNG of at most 512 px a "
        "side); null when it has none. A new picture is a new URL."
    )
    def image_url(self) -> str | None:
        version = self.row.image_version
        return None if version is None else f"/prizes/{self.row.id}/image.png?v={version}"

    @strawberry.field(description="Null when any tier may redeem it.")
    async def min_tier(self, info: Info) -> Tier | None:
        if self.row.min_tier_id is None:
            return None
        found = await info.context.loaders.tier_by_id.load(self.row.min_tier_id)
        return None if found is None else Tier.of(found)

    @classmethod
    def of(cls, row: PrizeRow) -> Prize:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            cost=row.cost,
            stock_left=row.stock_left,
            kind=PrizeKind(row.kind.value),
            per_member_limit=row.per_member_limit,
            available_from=row.available_from,
            available_until=row.available_until,
            archived=row.archived,
        )


@strawberry.type
class PrizeEdge:
    node: Prize
    cursor: str


@strawberry.type
class PrizeConnection:
    edges: list[PrizeEdge]
    page_info: PageInfo


@strawberry.type
class Redemption:
    prize_id: strawberry.Private[int]
    id: strawberry.ID

    cost: int
    status: RedemptionStatus
    code: str = strawberry.field(
        description="The unique code the shopper uses at checkout. Only its owner sees it "
        "whole; staff see its last four characters."
    )
    created_at: datetime

    @strawberry.field
    async def prize(self, info: Info) -> Prize:
        found = await info.context.loaders.prize.load(self.prize_id)
        if found is None:  # the foreign key makes this impossible
            raise LookupError(f"no prize {self.prize_id}")
        return Prize.of(found)

    @classmethod
    def of(cls, view: actions.RedemptionView) -> Redemption:
        row = view.row
        return cls(
            prize_id=row.prize_id,
            id=strawberry.ID(str(row.id)),
            cost=row.cost,
            status=RedemptionStatus(row.status.value),
            code=view.code,
            created_at=row.created_at,
        )


@strawberry.type
class PrizeQueries:
    @field(description="Prizes that can be redeemed now.")
    async def prizes(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PrizeConnection:
        page = await actions.prizes_page(info.context.services, first=first, after=after)
        return PrizeConnection(
            edges=[
                PrizeEdge(node=Prize.of(p), cursor=actions.prize_cursor(p)) for p in page.prizes
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )
