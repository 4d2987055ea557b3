"""The prize catalog for admins, redemption for shoppers, cancel and fulfil for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.accounts import Account
from schema.context import Info
from schema.errors import (
    ConflictError,
    InsufficientPointsError,
    LimitReachedError,
    NotFoundError,
    OutOfStockError,
    PermissionDeniedError,
    ValidationError,
)
from schema.prizes import Prize, PrizeKind, Redemption
from schema.runner import arguments, caller, mutation
from server import actions
from server.rewards.prizes import PrizeKind as PrizeKindRow

__all__ = ["PrizeMutations"]


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
    account: Account
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was spent twice."
    )


RedeemPrizeResult = Annotated[
    PrizeRedeemed
    | ValidationError
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


def _fields(input: CreatePrizeInput | UpdatePrizeInput) -> actions.PrizeFields:
    kind = None if input.kind is None else PrizeKindRow(input.kind.value)
    return actions.PrizeFields(**arguments(input, without=("prize_id",), kind=kind))


@strawberry.type
class PrizeMutations:
    @mutation(description="ADMIN: a prize in the catalog.")
    async def create_prize(self, info: Info, input: CreatePrizeInput) -> PrizeResult:
        row = await actions.create_prize(info.context.principal, _fields(input))
        return PrizeSaved(prize=Prize.of(row))

    @mutation(description="ADMIN: change a prize.")
    async def update_prize(self, info: Info, input: UpdatePrizeInput) -> UpdatePrizeResult:
        row = await actions.update_prize(info.context.principal, input.prize_id, _fields(input))
        return PrizeSaved(prize=Prize.of(row))

    @mutation(description="ADMIN: take a prize out of the catalog.")
    async def archive_prize(self, info: Info, prize_id: strawberry.ID) -> UpdatePrizeResult:
        row = await actions.archive_prize(info.context.principal, prize_id)
        return PrizeSaved(prize=Prize.of(row))

    @mutation(
        description="SHOPPER: spend points on a prize; the code comes back at once. "
        "Idempotent by key."
    )
    async def redeem_prize(self, info: Info, input: RedeemPrizeInput) -> RedeemPrizeResult:
        done = await actions.redeem_prize(*caller(info), **arguments(input))
        return PrizeRedeemed(
            redemption=Redemption.of(done.redemption),
            account=Account.of(done.member),
            duplicate=done.duplicate,
        )

    @mutation(
        description="ADMIN or SERVICE: cancel a redemption; its points and stock come back "
        "exactly once."
    )
    async def cancel_redemption(
        self, info: Info, input: RedemptionDecisionInput
    ) -> RedemptionResult:
        view, changed = await actions.cancel_redemption(*caller(info), **arguments(input))
        return RedemptionUpdated(redemption=Redemption.of(view), duplicate=not changed)

    @mutation(description="ADMIN or SERVICE: the redemption was used or shipped.")
    async def fulfill_redemption(
        self, info: Info, input: RedemptionDecisionInput
    ) -> RedemptionResult:
        view = await actions.fulfill_redemption(
            info.context.services, info.context.principal, redemption_id=input.redemption_id
        )
        return RedemptionUpdated(redemption=Redemption.of(view), duplicate=False)
