"""Activities: what a member did, its status and what it earned."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.context import Info
from schema.members import Member, load_member
from schema.shared import PageInfo
from server import actions
from server.actions.photos import photo_urls
from server.rewards.activities import Activity as ActivityRow
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.activities import ActivityStatus as ActivityStatusRow

__all__ = ["Activity", "ActivityConnection", "ActivityKind", "ActivityStatus"]

_REVIEWS = (ActivityKindRow.REVIEW, ActivityKindRow.PHOTO_REVIEW)


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
class ReviewDetails:
    product_id: str
    rating: int
    text: str
    has_photo: bool


@strawberry.type(description="A review's photo: JPEGs without metadata, served with an ETag.")
class ReviewPhoto:
    url: str = strawberry.field(description="At most 1600 px on its long side.")
    thumbnail_url: str = strawberry.field(description="At most 320 px on its long side.")


def _photo(row: ActivityRow) -> ReviewPhoto | None:
    found = row.payload.get("photoId") if row.kind in _REVIEWS else None
    if not isinstance(found, str):
        return None
    url, thumbnail = photo_urls(found)
    return ReviewPhoto(url=url, thumbnail_url=thumbnail)


@strawberry.type
class ShareDetails:
    platform: str
    url: str


def _review(row: ActivityRow) -> ReviewDetails | None:
    if row.kind not in _REVIEWS:
        return None
    data = row.payload
    return ReviewDetails(
        product_id=str(data["productId"]),
        rating=int(str(data["rating"])),
        text=str(data["text"]),
        has_photo=bool(data["hasPhoto"]),
    )


def _share(row: ActivityRow) -> ShareDetails | None:
    if row.kind is not ActivityKindRow.SOCIAL_SHARE:
        return None
    return ShareDetails(platform=str(row.payload["platform"]), url=str(row.payload["url"]))


def _pending(row: ActivityRow) -> int:
    if row.status is not ActivityStatusRow.PENDING:
        return 0
    return max(0, row.points_awarded - row.points)


def _product_ids(row: ActivityRow) -> list[str] | None:
    if row.kind is not ActivityKindRow.PURCHASE:
        return None
    found = row.payload.get("productIds") or []
    return [str(p) for p in found] if isinstance(found, list) else []


@strawberry.type
class Activity:
    row: strawberry.Private[ActivityRow]
    id: strawberry.ID
    kind: ActivityKind
    status: ActivityStatus
    points: int = strawberry.field(
        description="Points this activity gave (0 while pending or rejected)."
    )
    pending_points: int = strawberry.field(
        description="Points waiting on this activity (for a moderator, or for the end of "
        "the return window); 0 once they are spendable, or when it was rejected."
    )

    occurred_at: datetime
    review: ReviewDetails | None = strawberry.field(
        description="For reviews: what was reviewed and how."
    )
    share: ShareDetails | None = strawberry.field(
        description="For shares: where and what was shared."
    )
    photo: ReviewPhoto | None = strawberry.field(
        description="For a photo review whose photo was uploaded to Laurel: the photo."
    )
    order_id: str | None = strawberry.field(description="For purchases: the shop's order id.")
    product_ids: list[str] | None = strawberry.field(
        description="For purchases: the products in the order (reviewable)."
    )

    decision_reason: str | None = strawberry.field(
        description="The moderator's reason, when one was given."
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was decided: by a moderator, or by the rules when it needs none. "
        "Null while waiting for a moderator."
    )

    @strawberry.field
    async def member(self, info: Info) -> Member:
        return await load_member(info, self.row.member_id)

    @strawberry.field(
        description="Why a rule sent this to a moderator (e.g. self-referral signs); staff only."
    )
    def flag_reason(self, info: Info) -> str | None:
        return self.row.flag_reason if info.context.principal.is_staff else None

    @classmethod
    def of(cls, row: ActivityRow) -> Activity:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            kind=ActivityKind(row.kind.value),
            status=ActivityStatus(row.status.value),
            points=row.points,
            pending_points=_pending(row),
            occurred_at=row.occurred_at,
            review=_review(row),
            share=_share(row),
            photo=_photo(row),
            order_id=row.target if row.kind is ActivityKindRow.PURCHASE else None,
            product_ids=_product_ids(row),
            decision_reason=row.decision_reason,
            decided_at=row.decided_at,
        )


@strawberry.type
class ActivityEdge:
    node: Activity
    cursor: str


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: actions.ActivityPage) -> ActivityConnection:
        return cls(
            edges=[
                ActivityEdge(node=Activity.of(a), cursor=actions.activity_cursor(a))
                for a in page.activities
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )
