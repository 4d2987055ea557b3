"""Activities and the mutations that record them (purchases, for now)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry

from schema.context import Info
from schema.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    as_error,
)
from schema.members import Member
from server import actions
from server.rewards.activities import Activity as ActivityRow
from server.rewards.errors import RewardsError

__all__ = ["Activity", "ActivityMutations"]


@strawberry.enum
class ActivityKind(Enum):
    REVIEW = "REVIEW"
    PHOTO_REVIEW = "PHOTO_REVIEW"
    SOCIAL_SHARE = "SOCIAL_SHARE"
    REFERRAL = "REFERRAL"
    PURCHASE = "PURCHASE"


@strawberry.enum
class ActivityStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Waiting for moderation or for the end of a lock period."
    )
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REVERSED = strawberry.enum_value(
        "REVERSED", description="Undone later (refund, removed review); its points were taken back."
    )


@strawberry.type
class Activity:
    row: strawberry.Private[ActivityRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def kind(self) -> ActivityKind:
        return ActivityKind(self.row.kind.value)

    @strawberry.field
    def status(self) -> ActivityStatus:
        return ActivityStatus(self.row.status.value)

    @strawberry.field(description="Points this activity gave (0 while pending or rejected).")
    def points(self) -> int:
        return self.row.points

    @strawberry.field
    async def member(self, info: Info) -> Member:
        row = await info.context.loaders.member.load(self.row.member_id)
        if row is None:  # the foreign key makes this impossible
            raise LookupError(f"activity {self.row.id} has no member")
        return Member(row=row)

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.occurred_at


@strawberry.type
class ActivityRecorded:
    activity: Activity
    points_awarded: int = strawberry.field(
        description="Points credited by this call, spendable or pending."
    )
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was credited twice."
    )


RecordActivityResult = Annotated[
    ActivityRecorded
    | ValidationError
    | PermissionDeniedError
    | NotFoundError
    | LimitReachedError
    | ConflictError,
    strawberry.union("RecordActivityResult"),
]


@strawberry.input
class RecordPurchaseInput:
    idempotency_key: str
    member_external_id: str
    order_id: str
    amount_cents: int
    occurred_at: datetime | None = None


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(
        description="SERVICE: an order paid; points are pending until the return window ends."
    )
    async def record_purchase(self, info: Info, input: RecordPurchaseInput) -> RecordActivityResult:
        try:
            done = await actions.record_purchase(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                member_external_id=input.member_external_id,
                order_id=input.order_id,
                amount_cents=input.amount_cents,
                occurred_at=input.occurred_at,
            )
        except RewardsError as exc:
            return cast(RecordActivityResult, as_error(exc))
        return ActivityRecorded(
            activity=Activity(row=done.activity),
            points_awarded=done.points_awarded,
            duplicate=done.duplicate,
        )
