"""Activities and the mutations that record them (purchases, refunds, reviews, shares)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry

from schema.badges import MemberBadge, member_badge
from schema.context import Info
from schema.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    as_error,
    query_error,
)
from schema.members import Member, PageInfo
from server import actions
from server.rewards.activities import Activity as ActivityRow
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.errors import RewardsError

__all__ = [
    "Activity",
    "ActivityConnection",
    "ActivityMutations",
    "ActivityQueries",
    "activity_connection",
]


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
        return Member.of(row)

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.occurred_at

    @strawberry.field(description="For reviews: what was reviewed and how.")
    def review(self) -> ReviewDetails | None:
        if self.row.kind not in (ActivityKindRow.REVIEW, ActivityKindRow.PHOTO_REVIEW):
            return None
        data = self.row.payload
        return ReviewDetails(
            product_id=str(data["productId"]),
            rating=int(str(data["rating"])),
            text=str(data["text"]),
            has_photo=bool(data["hasPhoto"]),
        )

    @strawberry.field(description="For shares: where and what was shared.")
    def share(self) -> ShareDetails | None:
        if self.row.kind is not ActivityKindRow.SOCIAL_SHARE:
            return None
        return ShareDetails(
            platform=str(self.row.payload["platform"]), url=str(self.row.payload["url"])
        )

    @strawberry.field(description="For purchases: the shop's order id.")
    def order_id(self) -> str | None:
        return self.row.target if self.row.kind is ActivityKindRow.PURCHASE else None

    @strawberry.field(description="For purchases: the products in the order (reviewable).")
    def product_ids(self) -> list[str] | None:
        if self.row.kind is not ActivityKindRow.PURCHASE:
            return None
        found = self.row.payload.get("productIds") or []
        return [str(p) for p in found] if isinstance(found, list) else []

    @strawberry.field(
        description="Why a rule sent this to a moderator (e.g. self-referral signs); staff only."
    )
    def flag_reason(self, info: Info) -> str | None:
        return self.row.flag_reason if info.context.principal.is_staff else None

    @strawberry.field(description="The moderator's reason, when one was given.")
    def decision_reason(self) -> str | None:
        return self.row.decision_reason

    @strawberry.field(
        description="When it was decided: by a moderator, or by the rules when it needs none. "
        "Null while waiting for a moderator."
    )
    def decided_at(self) -> datetime | None:
        return self.row.decided_at


@strawberry.type
class ReviewDetails:
    product_id: str
    rating: int
    text: str
    has_photo: bool


@strawberry.type
class ShareDetails:
    platform: str
    url: str


@strawberry.type
class ActivityEdge:
    node: Activity
    cursor: str


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo


def activity_connection(page: actions.ActivityPage) -> ActivityConnection:
    return ActivityConnection(
        edges=[
            ActivityEdge(node=Activity(row=a), cursor=actions.activity_cursor(a))
            for a in page.activities
        ],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )


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
    has_photo: bool = False
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


async def _record(call: Awaitable[actions.Recorded]) -> RecordActivityResult:
    """Await a recording use case; its expected failures become typed errors."""
    try:
        done = await call
    except RewardsError as exc:
        return cast(RecordActivityResult, as_error(exc))
    return ActivityRecorded(
        activity=Activity(row=done.activity),
        points_awarded=done.points_awarded,
        badges_awarded=[member_badge(g) for g in done.badges],
        duplicate=done.duplicate,
    )


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="Activities waiting for a moderator; MODERATOR or ADMIN, else empty."
    )
    async def moderation_queue(self, info: Info, first: int = 20) -> list[Activity]:
        try:
            rows = await actions.moderation_queue(
                info.context.principal, first=first, max_size=info.context.services.max_page_size
            )
        except RewardsError as exc:
            raise query_error(exc) from None
        return [Activity(row=r) for r in rows]


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(
        description="SERVICE: an order paid; points are pending until the return window ends."
    )
    async def record_purchase(self, info: Info, input: RecordPurchaseInput) -> RecordActivityResult:
        return await _record(
            actions.record_purchase(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                member_external_id=input.member_external_id,
                order_id=input.order_id,
                amount_cents=input.amount_cents,
                occurred_at=input.occurred_at,
                product_ids=input.product_ids,
            )
        )

    @strawberry.mutation(
        description="SERVICE: a full or partial refund; takes back the purchase's points, "
        "and a referral reward it qualified. pointsAwarded is negative: the points taken back."
    )
    async def refund_purchase(self, info: Info, input: RefundPurchaseInput) -> RecordActivityResult:
        return await _record(
            actions.refund_purchase(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                order_id=input.order_id,
                amount_cents=input.amount_cents,
            )
        )

    @strawberry.mutation(description="A review enters moderation; points come when approved.")
    async def submit_review(self, info: Info, input: SubmitReviewInput) -> RecordActivityResult:
        return await _record(
            actions.submit_review(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                product_id=input.product_id,
                rating=input.rating,
                text=input.text,
                has_photo=input.has_photo,
                member_external_id=input.member_external_id,
            )
        )

    @strawberry.mutation(description="A share of one of the shop's pages.")
    async def record_share(self, info: Info, input: RecordShareInput) -> RecordActivityResult:
        return await _record(
            actions.record_share(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                platform=input.platform,
                url=input.url,
                member_external_id=input.member_external_id,
            )
        )

    @strawberry.mutation(
        description="MODERATOR: approve or reject a pending review, or a flagged referral; "
        "REVERSE removes an approved review."
    )
    async def moderate_activity(
        self,
        info: Info,
        input: ModerateActivityInput,
    ) -> RecordActivityResult:
        return await _record(
            actions.moderate_activity(
                info.context.services,
                info.context.principal,
                activity_id=input.activity_id,
                decision=actions.Decision(input.decision.value),
                reason=input.reason,
            )
        )
