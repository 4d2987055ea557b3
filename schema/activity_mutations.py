"""The mutations that record activities (purchases, refunds, reviews, shares),
moderation, and the moderation queue."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.activities import Activity
from schema.badges import MemberBadge
from schema.context import Info
from schema.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from schema.runner import arguments, caller, field, mutation
from server import actions

__all__ = ["ActivityMutations", "ModerationQueries"]


@strawberry.type
class ActivityRecorded:
    activity: Activity
    points_awarded: int = strawberry.field(
        description="Points credited by this call, spendable or pending."
    )
    badges_awarded: list[MemberBadge] = strawberry.field(
        description="Badge levels this call earned (for a moderator's decision: the author's)."
    )
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was credited twice."
    )

    @classmethod
    def of(cls, done: actions.Recorded) -> ActivityRecorded:
        return cls(
            activity=Activity.of(done.activity),
            points_awarded=done.points_awarded,
            badges_awarded=[MemberBadge.of(g) for g in done.badges],
            duplicate=done.duplicate,
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
    product_ids: list[str] | None = strawberry.field(
        default=None, description="Products in the order: their buyer may review them."
    )


@strawberry.input
class RefundPurchaseInput:
    idempotency_key: str
    order_id: str
    amount_cents: int


@strawberry.input
class SubmitReviewInput:
    idempotency_key: str
    product_id: str
    rating: int
    text: str
    has_photo: bool = strawberry.field(
        default=False,
        description="Without photoId: a photo kept on the shop's side (SERVICE callers only; "
        "a shopper sends photoId).",
    )
    photo_id: str | None = strawberry.field(
        default=None,
        description="A photo the member uploaded (POST /photos): makes it a PHOTO_REVIEW.",
    )
    member_external_id: str | None = strawberry.field(
        default=None,
        description="SERVICE callers name the member; SHOPPER callers act as themselves.",
    )


@strawberry.input
class RecordShareInput:
    idempotency_key: str
    platform: str
    url: str
    member_external_id: str | None = None


@strawberry.enum
class ModerationDecision(Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REVERSE = strawberry.enum_value(
        "REVERSE", description="Remove an approved review; its points are taken back."
    )


@strawberry.input
class ModerateActivityInput:
    activity_id: strawberry.ID
    decision: ModerationDecision
    reason: str | None = None


@strawberry.type
class ModerationQueries:
    @field(description="Activities waiting for a moderator; MODERATOR or ADMIN, else empty.")
    async def moderation_queue(self, info: Info, first: int = 20) -> list[Activity]:
        rows = await actions.moderation_queue(
            info.context.principal, first=first, max_size=info.context.services.max_page_size
        )
        return [Activity.of(r) for r in rows]


@strawberry.type
class ActivityMutations:
    @mutation(
        description="SERVICE: an order paid; points are pending until the return window ends."
    )
    async def record_purchase(self, info: Info, input: RecordPurchaseInput) -> RecordActivityResult:
        return ActivityRecorded.of(await actions.record_purchase(*caller(info), **arguments(input)))

    @mutation(
        description="SERVICE: a full or partial refund; takes back the purchase's points, "
        "and a referral reward it qualified. pointsAwarded is negative: the points taken back."
    )
    async def refund_purchase(self, info: Info, input: RefundPurchaseInput) -> RecordActivityResult:
        return ActivityRecorded.of(await actions.refund_purchase(*caller(info), **arguments(input)))

    @mutation(description="A review enters moderation; points come when approved.")
    async def submit_review(self, info: Info, input: SubmitReviewInput) -> RecordActivityResult:
        return ActivityRecorded.of(await actions.submit_review(*caller(info), **arguments(input)))

    @mutation(description="A share of one of the shop's pages.")
    async def record_share(self, info: Info, input: RecordShareInput) -> RecordActivityResult:
        return ActivityRecorded.of(await actions.record_share(*caller(info), **arguments(input)))

    @mutation(
        description="MODERATOR: approve or reject a pending review, or a flagged referral; "
        "REVERSE removes an approved review."
    )
    async def moderate_activity(
        self, info: Info, input: ModerateActivityInput
    ) -> RecordActivityResult:
        done = await actions.moderate_activity(
            info.context.services,
            info.context.principal,
            **arguments(input, decision=actions.Decision(input.decision.value)),
        )
        return ActivityRecorded.of(done)
