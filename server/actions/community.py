"""Reviews and shares as members (or the shop for them) report them, and a member's
activity history. Both earn through ``ingest``; moderation is in ``moderation``."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from server.actions.common import (
    Keyed,
    Recorded,
    activity_replay,
    decode_cursor,
    encode_cursor,
    page_size,
    scoped_key,
)
from server.actions.ingest import REVIEWS, acting_member, ingest
from server.actions.photos import review_photo
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, PurchasedProduct
from server.rewards.community import review_text, share_platform, share_url
from server.rewards.errors import Invalid
from server.rewards.text import msg

__all__ = [
    "ActivityPage",
    "activities_page",
    "activity_cursor",
    "record_share",
    "submit_review",
]


@dataclass(frozen=True, slots=True)
class ActivityPage:
    """A page of a member's activities and whether more follow."""

    activities: list[Activity]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return activity_cursor(self.activities[-1]) if self.activities else None


def activity_cursor(activity: Activity) -> str:
    """The cursor that continues an activity page after ``activity``."""
    return encode_cursor("activity", activity.id)


async def submit_review(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    product_id: str,
    rating: int,
    text: str,
    has_photo: bool = False,
    photo_id: str | None = None,
    member_external_id: str | None = None,
) -> Recorded:
    """A review of a product the member bought; it waits for a moderator. With
    ``photo_id`` (a photo the member uploaded) it is a PHOTO_REVIEW. A shopper cannot
    claim a photo without sending it; the shop's SERVICE key may still report
    ``has_photo`` for a photo kept on the shop's side (docs/decisions/0036)."""
    author = await acting_member(principal, member_external_id)
    keyed = await scoped_key("review", principal, idempotency_key, Activity)
    product = v.clean_text("productId", product_id, max_length=128)
    if not 1 <= rating <= 5:
        raise Invalid("rating", msg("rating must be 1 to 5."))
    body = review_text(text)
    payload: dict[str, object] = {"productId": product, "rating": rating, "text": body}
    if photo_id:
        payload["photoId"] = await review_photo(author.id, photo_id)
    elif has_photo and principal.role is Role.SHOPPER:
        raise Invalid("photoId", msg("A photo review needs its photo: choose the photo to upload."))
    has_photo = has_photo or bool(photo_id)
    payload["hasPhoto"] = has_photo
    request_hash = v.fingerprint(member=author.id, **payload)
    # A retry returns the first result even if the order was refunded since.
    replay = await activity_replay(keyed, request_hash)
    if replay is not None:
        return replay
    bought = await PurchasedProduct.filter(
        member_id=author.id, product_id=product, purchase__status__not=ActivityStatus.REVERSED
    ).exists()
    if not bought:
        raise Invalid("productId", msg("Only a verified buyer of this product can review it."))
    return await ingest(
        svc,
        principal,
        kind=ActivityKind.PHOTO_REVIEW if has_photo else ActivityKind.REVIEW,
        family=REVIEWS,
        member=author,
        key=Keyed(keyed.key, looked=True),  # nothing was stored under it just now
        request_hash=request_hash,
        target=product,
        payload=payload,
    )


async def record_share(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    platform: str,
    url: str,
    member_external_id: str | None = None,
) -> Recorded:
    """A share of one of the shop's pages: once per page, a few a day."""
    sharer = await acting_member(principal, member_external_id)
    keyed = await scoped_key("share", principal, idempotency_key, Activity)
    where = share_platform(platform)
    page = share_url(url, svc.shop_domains)
    payload = {"platform": where, "url": page}
    return await ingest(
        svc,
        principal,
        kind=ActivityKind.SOCIAL_SHARE,
        family=(ActivityKind.SOCIAL_SHARE,),
        member=sharer,
        key=keyed,
        request_hash=v.fingerprint(member=sharer.id, **payload),
        target=page,
        payload=payload,
    )


async def activities_page(
    svc: Services, member_id: int, *, first: int, after: str | None
) -> ActivityPage:
    """A member's activities, newest first by when they happened (an order imported
    later still falls into its place), with status and points. The cursor names the
    last activity shown; the page goes on from its (time, id)."""
    size = page_size(svc, "first", first)
    query = Activity.filter(member_id=member_id)
    if after is not None:
        last_id = decode_cursor("activity", after)
        last = await Activity.filter(id=last_id, member_id=member_id).only("id", "occurred_at")
        if not last:
            raise Invalid("after", msg("after is not a cursor from this list."))
        at = last[0].occurred_at
        query = query.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=last_id))
    rows = await query.order_by("-occurred_at", "-id").limit(size + 1)
    return ActivityPage(activities=rows[:size], has_next_page=len(rows) > size)
