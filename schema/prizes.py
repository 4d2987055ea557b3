"""Tiers and prizes: the ladder, tier progress, the catalog and redemptions."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from schema.context import Info
from schema.errors import (
    ConflictError,
    InsufficientPointsError,
    LimitReachedError,
    NotFoundError,
    OutOfStockError,
    PermissionDeniedError,
    ValidationError,
    as_error,
    query_error,
)
from schema.members import PageInfo
from server import actions
from server.rewards.errors import RewardsError
from server.rewards.prizes import Prize as PrizeRow
from server.rewards.prizes import PrizeKind as PrizeKindRow
from server.rewards.prizes import Redemption as RedemptionRow
from server.rewards.tiers import Standing
from server.rewards.tiers import Tier as TierRow

if TYPE_CHECKING:
    from schema.members import Account

__all__ = [
    "PrizeMutations",
    "PrizeQueries",
    "Redemption",
    "Tier",
    "TierProgress",
    "tier_of",
]


@strawberry.type
class Tier:
    row: strawberry.Private[TierRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field(
        description="Qualifying points needed within the tier window to hold this tier."
    )
    def threshold(self) -> int:
        return self.row.threshold

    @strawberry.field(description="Earning multiplier, e.g. 1.25.")
    def multiplier(self) -> float:
        return float(self.row.multiplier)

    @strawberry.field(description="Points granted once per window on reaching this tier.")
    def entry_bonus(self) -> int:
        return self.row.entry_bonus


def tier_of(row: TierRow) -> Tier:
    return Tier(row=row)


@strawberry.type
class TierProgress:
    row: strawberry.Private[Standing]

    @strawberry.field
    def current(self) -> Tier:
        if self.row.tier is None:
            raise LookupError("no tiers are defined")
        return Tier(row=self.row.tier)

    @strawberry.field(description="Null at the top tier.")
    def next(self) -> Tier | None:
        return None if self.row.next is None else Tier(row=self.row.next)

    @strawberry.field
    def qualifying_points(self) -> int:
        return self.row.qualifying_points

    @strawberry.field(description="Points still to earn to reach next; 0 at the top tier.")
    def points_to_next(self) -> int:
        return self.row.points_to_next

    @strawberry.field(
        description="Points still to earn before windowEndsAt to keep the current tier."
    )
    def points_to_keep(self) -> int:
        return self.row.points_to_keep

    @strawberry.field
    def window_ends_at(self) -> datetime:
        return self.row.window_ends_at


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

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def cost(self) -> int:
        return self.row.cost

    @strawberry.field(description="Null for unlimited stock.")
    def stock_left(self) -> int | None:
        return self.row.stock_left

    @strawberry.field(description="Null when any tier may redeem it.")
    async def min_tier(self) -> Tier | None:
        if self.row.min_tier_id is None:
            return None
        found = next((t for t in await actions.tier_ladder() if t.id == self.row.min_tier_id), None)
        return None if found is None else Tier(row=found)

    @strawberry.field
    def kind(self) -> PrizeKind:
        return PrizeKind(self.row.kind.value)

    @strawberry.field
    def per_member_limit(self) -> int | None:
        return self.row.per_member_limit

    @strawberry.field
    def available_from(self) -> datetime | None:
        return self.row.available_from

    @strawberry.field
    def available_until(self) -> datetime | None:
        return self.row.available_until

    @strawberry.field
    def archived(self) -> bool:
        return self.row.archived


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
    row: strawberry.Private[RedemptionRow]
    owner_view: strawberry.Private[bool]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    async def prize(self) -> Prize:
        return Prize(row=await self.row.prize)

    @strawberry.field
    def cost(self) -> int:
        return self.row.cost

    @strawberry.field
    def status(self) -> RedemptionStatus:
        return RedemptionStatus(self.row.status.value)

    @strawberry.field(
        description="The unique code the shopper uses at checkout. Only its owner sees it "
        "whole; staff see its last four characters."
    )
    def code(self) -> str:
        return self.row.code if self.owner_view else "••••" + self.row.code[-4:]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.input
class CreatePrizeInput:
    name: str
    description: str = ""
    cost: int
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier_id: strawberry.ID | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    kind: PrizeKind = PrizeKind.DISCOUNT_CODE


@strawberry.input(description="Only the fields given change.")
class UpdatePrizeInput:
    prize_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    cost: int | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier_id: strawberry.ID | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    kind: PrizeKind | None = None


@strawberry.type
class PrizeSaved:
    prize: Prize


PrizeResult = Annotated[
    PrizeSaved | ValidationError | PermissionDeniedError, strawberry.union("PrizeResult")
]
UpdatePrizeResult = Annotated[
    PrizeSaved | ValidationError | PermissionDeniedError | NotFoundError,
    strawberry.union("UpdatePrizeResult"),
]


@strawberry.input
class RedeemPrizeInput:
    idempotency_key: str
    prize_id: strawberry.ID


@strawberry.type
class PrizeRedeemed:
    redemption: Redemption
    account: Annotated[Account, strawberry.lazy("schema.members")]
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was spent twice."
    )


RedeemPrizeResult = Annotated[
    PrizeRedeemed
    | InsufficientPointsError
    | OutOfStockError
    | LimitReachedError
    | PermissionDeniedError
    | NotFoundError
    | ConflictError,
    strawberry.union("RedeemPrizeResult"),
]


@strawberry.input
class RedemptionDecisionInput:
    redemption_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class RedemptionUpdated:
    redemption: Redemption
    duplicate: bool = strawberry.field(description="True when it was already in that state.")


RedemptionResult = Annotated[
    RedemptionUpdated | ValidationError | PermissionDeniedError | NotFoundError | ConflictError,
    strawberry.union("RedemptionResult"),
]


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


def _fields(input: CreatePrizeInput | UpdatePrizeInput) -> actions.PrizeFields:
    return actions.PrizeFields(
        name=input.name,
        description=input.description,
        cost=input.cost,
        stock=input.stock,
        per_member_limit=input.per_member_limit,
        min_tier_id=input.min_tier_id,
        available_from=input.available_from,
        available_until=input.available_until,
        kind=None if input.kind is None else PrizeKindRow(input.kind.value),
    )


@strawberry.type
class PrizeQueries:
    @strawberry.field(description="Every tier, lowest first.")
    async def tiers(self) -> list[Tier]:
        return [Tier(row=t) for t in await actions.tier_ladder()]

    @strawberry.field(description="Prizes that can be redeemed now.")
    async def prizes(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PrizeConnection:
        try:
            page = await actions.prizes_page(info.context.services, first=first, after=after)
        except RewardsError as exc:
            raise query_error(exc) from None
        return PrizeConnection(
            edges=[
                PrizeEdge(node=Prize(row=p), cursor=actions.prize_cursor(p)) for p in page.prizes
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class PrizeMutations:
    @strawberry.mutation(description="ADMIN: a prize in the catalog.")
    async def create_prize(self, info: Info, input: CreatePrizeInput) -> PrizeResult:
        try:
            row = await actions.create_prize(info.context.principal, _fields(input))
        except RewardsError as exc:
            return cast(PrizeResult, as_error(exc))
        return PrizeSaved(prize=Prize(row=row))

    @strawberry.mutation(description="ADMIN: change a prize.")
    async def update_prize(self, info: Info, input: UpdatePrizeInput) -> UpdatePrizeResult:
        try:
            row = await actions.update_prize(info.context.principal, input.prize_id, _fields(input))
        except RewardsError as exc:
            return cast(UpdatePrizeResult, as_error(exc))
        return PrizeSaved(prize=Prize(row=row))

    @strawberry.mutation(description="ADMIN: take a prize out of the catalog.")
    async def archive_prize(self, info: Info, prize_id: strawberry.ID) -> UpdatePrizeResult:
        try:
            row = await actions.archive_prize(info.context.principal, prize_id)
        except RewardsError as exc:
            return cast(UpdatePrizeResult, as_error(exc))
        return PrizeSaved(prize=Prize(row=row))

    @strawberry.mutation(
        description="SHOPPER: spend points on a prize; the code comes back at once. "
        "Idempotent by key."
    )
    async def redeem_prize(self, info: Info, input: RedeemPrizeInput) -> RedeemPrizeResult:
        from schema.members import Account

        try:
            done = await actions.redeem_prize(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                prize_id=input.prize_id,
            )
        except RewardsError as exc:
            return cast(RedeemPrizeResult, as_error(exc))
        return PrizeRedeemed(
            redemption=Redemption(row=done.redemption, owner_view=True),
            account=Account(row=done.member),
            duplicate=done.duplicate,
        )

    @strawberry.mutation(
        description="ADMIN or SERVICE: cancel a redemption; its points and stock come back "
        "exactly once."
    )
    async def cancel_redemption(
        self, info: Info, input: RedemptionDecisionInput
    ) -> RedemptionResult:
        try:
            row, changed = await actions.cancel_redemption(
                info.context.services,
                info.context.principal,
                redemption_id=input.redemption_id,
                reason=input.reason,
            )
        except RewardsError as exc:
            return cast(RedemptionResult, as_error(exc))
        return RedemptionUpdated(
            redemption=Redemption(row=row, owner_view=False), duplicate=not changed
        )

    @strawberry.mutation(description="ADMIN or SERVICE: the redemption was used or shipped.")
    async def fulfill_redemption(
        self, info: Info, input: RedemptionDecisionInput
    ) -> RedemptionResult:
        try:
            row = await actions.fulfill_redemption(
                info.context.services, info.context.principal, redemption_id=input.redemption_id
            )
        except RewardsError as exc:
            return cast(RedemptionResult, as_error(exc))
        return RedemptionUpdated(redemption=Redemption(row=row, owner_view=False), duplicate=False)

    @strawberry.mutation(description="ADMIN: change a tier; the ladder stays valid.")
    async def update_tier(self, info: Info, input: UpdateTierInput) -> TierResult:
        try:
            row = await actions.update_tier(
                info.context.principal,
                input.tier_id,
                name=input.name,
                threshold=input.threshold,
                multiplier=input.multiplier,
                entry_bonus=input.entry_bonus,
            )
        except RewardsError as exc:
            return cast(TierResult, as_error(exc))
        return TierSaved(tier=Tier(row=row))
