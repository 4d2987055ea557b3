"""``upsertMember`` (sign-up) and ``adjustPoints`` (a manual credit or debit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.accounts import Account, LedgerEntry
from schema.context import Info
from schema.errors import (
    ConflictError,
    InsufficientPointsError,
    LimitReachedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from schema.members import Member
from schema.runner import arguments, caller, mutation
from server import actions

__all__ = ["MemberMutations"]


@strawberry.input
class UpsertMemberInput:
    external_id: str = strawberry.field(description="The shop's own customer id.")
    display_name: str
    email: str | None = None
    community: str | None = None
    referral_code: str | None = strawberry.field(
        default=None, description="A referrer's code given at sign-up."
    )
    joined_at: datetime | None = strawberry.field(
        default=None,
        description="When the customer joined the shop (not in the future), for history "
        "from before Laurel; default: now, at creation.",
    )


@strawberry.type
class MemberSaved:
    member: Member


UpsertMemberResult = Annotated[
    MemberSaved | ValidationError | PermissionDeniedError | LimitReachedError | ConflictError,
    strawberry.union("UpsertMemberResult"),
]


@strawberry.input
class AdjustPointsInput:
    idempotency_key: str
    member_id: strawberry.ID
    amount: int
    reason: str
    qualifying: bool = strawberry.field(
        default=False, description="Count it toward tiers, like points earned."
    )


@strawberry.type
class PointsAdjusted:
    entry: LedgerEntry
    account: Account
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was moved twice."
    )


AdjustPointsResult = Annotated[
    PointsAdjusted
    | ValidationError
    | PermissionDeniedError
    | NotFoundError
    | InsufficientPointsError
    | ConflictError,
    strawberry.union("AdjustPointsResult"),
]


@strawberry.type
class MemberMutations:
    @mutation(description="SERVICE or ADMIN: create or update a member (sign-up).")
    async def upsert_member(self, info: Info, input: UpsertMemberInput) -> UpsertMemberResult:
        row = await actions.upsert_member(*caller(info), **arguments(input))
        return MemberSaved(member=Member.of(row))

    @mutation(description="ADMIN: a manual credit or debit, kept in the ledger with its reason.")
    async def adjust_points(self, info: Info, input: AdjustPointsInput) -> AdjustPointsResult:
        done = await actions.adjust_points(*caller(info), **arguments(input))
        return PointsAdjusted(
            entry=LedgerEntry.of(done.entry),
            account=Account.of(done.member),
            duplicate=done.duplicate,
        )
