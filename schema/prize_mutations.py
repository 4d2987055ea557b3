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
from schema.runner import OWN_TEXT_RULES, arguments, caller, mutation
from server import actions
from server.actions.prize_images import set_prize_image
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
class AddPrizeCodesInput:
    prize_id: strawberry.ID
    codes: list[str] = strawberry.field(
        description="One code per entry (a text file's lines), at most 10,000 in a call; "
        "each trimmed, at most 64 printable characters; blank entries are ignored.",
        metadata=OWN_TEXT_RULES,
    )


@strawberry.type
class PrizeCodesAdded:
    added: int = strawberry.field(description="Codes new to the prize's pool.")
    skipped: int = strawberry.field(
        description="Codes already in the pool, or given twice: not added again."
    )
    prize: Prize


AddPrizeCodesResult = Annotated[
    PrizeCodesAdded | ValidationError | PermissionDeniedError | NotFoundError | ConflictError,
    strawberry.union("AddPrizeCodesResult"),
]


@strawberry.input
class SetPrizeImageInput:
    prize_id: strawberry.ID
    image: str | None = strawberry.field(
        default=None,
        description="Base64 of a PNG, JPEG or WebP file of at most 1 MB and 4096 px a side; "
        "stored as a PNG of at most 512 px on its long side. Null removes the picture.",
        metadata=OWN_TEXT_RULES,
    )


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
        description="ADMIN: add pre-loaded codes (gift cards, shop discount codes) to a "
        "prize's pool; the prize then hands out only these. Codes already there are skipped, "
        "so sending the same codes again adds none. A bad code adds none of them."
    )
    async def add_prize_codes(self, info: Info, input: AddPrizeCodesInput) -> AddPrizeCodesResult:
        done = await actions.add_prize_codes(info.context.principal, input.prize_id, input.codes)
        return PrizeCodesAdded(added=done.added, skipped=done.skipped, prize=Prize.of(done.prize))

    @mutation(description="ADMIN: set or remove (null) a prize's picture.")
    async def set_prize_image(self, info: Info, input: SetPrizeImageInput) -> UpdatePrizeResult:
        row = await set_prize_image(info.context.principal, input.prize_id, input.image)
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
