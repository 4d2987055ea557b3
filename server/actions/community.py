"""Reviews, shares and moderation: the earning paths that go through rules and caps.

One ingestion path (``_ingest``) for every kind: rule lookup, caps counted
under the member's row lock (so concurrent calls cannot slip past a cap),
the activity and its ledger entry in one transaction, idempotent by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.actions.common import (
    Recorded,
    Services,
    activity_replay,
    award_badges,
    decode_cursor,
    encode_cursor,
    find_by_id,
    page_size,
    require,
    scoped_key,
)
from server.actions.tiers import earning_tier, multiplier_of
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, PurchasedProduct
from server.rewards.community import review_text, share_platform, share_url
from server.rewards.errors import Conflict, Invalid, LimitReached, NotFound, PermissionDenied
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind, LedgerEntry, Posting, lock_member, post, reversal
from server.rewards.members import Member
from server.rewards.pending import release_credit, remaining_pending
from server.rewards.referrals import settle_referrals
from server.rewards.rules import EarningRule, rule_for
from server.rewards.tiers import apply_multiplier

__all__ = [
    "ActivityPage",
    "Decision",
    "activities_page",
    "activity_cursor",
    "moderate_activity",
    "moderation_queue",
    "record_share",
    "submit_review",
]

_REVIEWS = (ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW)
_NOT_COUNTED = (ActivityStatus.REJECTED,)
_BY_RULES = "rules"


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REVERSE = "REVERSE"


@dataclass(frozen=True, slots=True)
class ActivityPage:
    activities: list[Activity]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return activity_cursor(self.activities[-1]) if self.activities else None


def activity_cursor(activity: Activity) -> str:
    return encode_cursor("activity", activity.id)


async def _acting_member(principal: Principal, member_external_id: str | None) -> Member:
    """SHOPPER acts as themselves; SERVICE (or ADMIN) names the member."""
    if principal.role is Role.SHOPPER:
        me = await Member.get(id=principal.member_id)
        if member_external_id not in (None, "", me.external_id):
            raise PermissionDenied("A shopper can only act as themselves.")
        return me
    require(principal, Role.SERVICE, Role.ADMIN)
    if not member_external_id:
        raise Invalid("memberExternalId", "memberExternalId is required for staff callers.")
    found = await Member.get_or_none(external_id=member_external_id.strip())
    if found is None:
        raise NotFound(f"No member with external id {member_external_id!r}.")
    return found


async def _check_caps(
    rule: EarningRule, kinds: tuple[ActivityKind, ...], member: Member, target: str, now: datetime
) -> None:
    mine = Activity.filter(member_id=member.id, kind__in=kinds).exclude(status__in=_NOT_COUNTED)
    if rule.target_cap is not None and await mine.filter(target=target).count() >= rule.target_cap:
        raise Conflict("Already recorded for this member: " + _what(kinds[0]) + ".")
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if rule.daily_cap is not None and await mine.filter(occurred_at__gte=day).count() >= (
        rule.daily_cap
    ):
        raise LimitReached(f"At most {rule.daily_cap} a day; try again tomorrow.")
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    if rule.monthly_cap is not None and await mine.filter(occurred_at__gte=month).count() >= (
        rule.monthly_cap
    ):
        raise LimitReached(f"At most {rule.monthly_cap} a month.")


def _what(kind: ActivityKind) -> str:
    return {
        ActivityKind.REVIEW: "one review per product",
        ActivityKind.PHOTO_REVIEW: "one review per product",
        ActivityKind.SOCIAL_SHARE: "one share per page",
    }.get(kind, "once per target")


async def _ingest(
    svc: Services,
    principal: Principal,
    *,
    kind: ActivityKind,
    family: tuple[ActivityKind, ...],
    member: Member,
    key: str,
    request_hash: str,
    target: str,
    payload: dict[str, Any],
) -> Recorded:
    replay = await activity_replay(key, request_hash)
    if replay is not None:
        return replay
    rule = await rule_for(kind)
    if not rule.active:
        raise Conflict(f"{kind.value.replace('_', ' ').lower()} earns no points at the moment.")
    now = svc.clock()
    moderated = rule.needs_moderation
    tier = await earning_tier(svc, member.id)
    points = apply_multiplier(rule.points, tier)
    # Without a moderator, a rule's pending period delays spending (not earning).
    wait = None if moderated or not rule.pending_days else now + timedelta(days=rule.pending_days)
    try:
        async with in_transaction():
            await lock_member(member.id)
            await _check_caps(rule, family, member, target, now)
            activity = await Activity.create(
                member_id=member.id,
                kind=kind,
                status=ActivityStatus.PENDING if moderated or wait else ActivityStatus.APPROVED,
                points_awarded=points,
                points=0 if moderated or wait else points,
                idempotency_key=key,
                request_hash=request_hash,
                payload=payload,
                target=target,
                occurred_at=now,
                decided_at=None if moderated else now,
                decided_by=None if moderated else _BY_RULES,
            )
            if points:
                await post(
                    Posting(
                        member_id=member.id,
                        kind=EntryKind.EARN,
                        amount=points,
                        # Awaiting a moderator: pending, not yet earned (no board move).
                        pending_delta=points if moderated or wait else 0,
                        lifetime_delta=0 if moderated else points,
                        available_at=wait,
                        reason=_reason(kind, payload),
                        actor=principal.actor,
                        idempotency_key=f"earn:activity:{activity.id}",
                        request_hash=request_hash,
                        activity_id=activity.id,
                        expires_at=now + svc.keep_for
                        if svc.keep_for and not moderated and not wait
                        else None,
                        multiplier=multiplier_of(tier),
                    ),
                    community=member.community,
                    now=now,
                )
    except IntegrityError:
        replay = await activity_replay(key, request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.points_committed()
    granted = await award_badges(svc, member.id, [kind], activity_id=activity.id)
    return Recorded(
        activity=activity, points_awarded=points, duplicate=False, badges=tuple(granted)
    )


def _reason(kind: ActivityKind, payload: dict[str, Any]) -> str:
    if kind in _REVIEWS:
        return f"Review of {payload['productId']}"
    if kind is ActivityKind.SOCIAL_SHARE:
        return f"Shared on {payload['platform']}"
    return kind.value.title()


async def submit_review(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    product_id: str,
    rating: int,
    text: str,
    has_photo: bool = False,
    member_external_id: str | None = None,
) -> Recorded:
    """A review of a product the member bought; it waits for a moderator."""
    author = await _acting_member(principal, member_external_id)
    key = scoped_key("review", principal, idempotency_key)
    product = v.clean_text("productId", product_id, max_length=128)
    if not 1 <= rating <= 5:
        raise Invalid("rating", "rating must be 1 to 5.")
    body = review_text(text)
    payload = {"productId": product, "rating": rating, "text": body, "hasPhoto": has_photo}
    request_hash = v.fingerprint(member=author.id, **payload)
    # A retry returns the first result even if the order was refunded since.
    replay = await activity_replay(key, request_hash)
    if replay is not None:
        return replay
    bought = await PurchasedProduct.filter(
        member_id=author.id, product_id=product, purchase__status__not=ActivityStatus.REVERSED
    ).exists()
    if not bought:
        raise Invalid("productId", "Only a verified buyer of this product can review it.")
    return await _ingest(
        svc,
        principal,
        kind=ActivityKind.PHOTO_REVIEW if has_photo else ActivityKind.REVIEW,
        family=_REVIEWS,
        member=author,
        key=key,
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
    sharer = await _acting_member(principal, member_external_id)
    key = scoped_key("share", principal, idempotency_key)
    where = share_platform(platform)
    page = share_url(url, svc.shop_domains)
    payload = {"platform": where, "url": page}
    return await _ingest(
        svc,
        principal,
        kind=ActivityKind.SOCIAL_SHARE,
        family=(ActivityKind.SOCIAL_SHARE,),
        member=sharer,
        key=key,
        request_hash=v.fingerprint(member=sharer.id, **payload),
        target=page,
        payload=payload,
    )


def _awaits_moderator(activity: Activity) -> bool:
    """Undecided and pending. Activities that need no moderator are decided by the
    rules when recorded; purchases are never moderated."""
    return (
        activity.status is ActivityStatus.PENDING
        and activity.decided_at is None
        and activity.kind is not ActivityKind.PURCHASE
    )


async def moderation_queue(principal: Principal, *, first: int, max_size: int) -> list[Activity]:
    """Reviews and flagged referrals waiting for a moderator, oldest first; staff only."""
    if principal.role not in (Role.MODERATOR, Role.ADMIN):
        return []
    if not 1 <= first <= max_size:
        raise Invalid("first", f"first must be between 1 and {max_size}.")
    waiting = Activity.filter(status=ActivityStatus.PENDING, decided_at__isnull=True).exclude(
        kind=ActivityKind.PURCHASE
    )
    return await waiting.order_by("id").limit(first)


async def moderate_activity(
    svc: Services,
    principal: Principal,
    *,
    activity_id: str,
    decision: Decision,
    reason: str | None,
) -> Recorded:
    """MODERATOR: approve or reject what waits, or reverse an approved review.

    Decided once: a second moderator (or a retry) gets the first outcome back,
    or a ConflictError if they decided otherwise.
    """
    require(principal, Role.MODERATOR, Role.ADMIN)
    note = (
        None
        if reason is None or not reason.strip()
        else v.clean_text("reason", reason, max_length=500)
    )
    activity = await find_by_id(Activity, "activityId", activity_id, "activity")
    now = svc.clock()
    if decision is Decision.REVERSE:
        return await _reverse(svc, principal, activity, note, now)
    # One transaction under the member's row lock: a concurrent moderator waits,
    # then finds the decision made and gets it back.
    async with in_transaction():
        await lock_member(activity.member_id)
        await activity.refresh_from_db()
        if not _awaits_moderator(activity):
            return _already_decided(activity, decision)
        await Activity.filter(id=activity.id).update(
            decided_at=now, decided_by=principal.actor, decision_reason=note
        )
        points = await _decide(svc, principal, activity, decision, now)
    await svc.events.points_committed()
    granted = []
    if decision is Decision.APPROVE:
        granted = await award_badges(
            svc, activity.member_id, [activity.kind], activity_id=activity.id
        )
    await activity.refresh_from_db()
    return Recorded(
        activity=activity, points_awarded=points, duplicate=False, badges=tuple(granted)
    )


async def _decide(
    svc: Services, principal: Principal, activity: Activity, decision: Decision, now: datetime
) -> int:
    if activity.kind is ActivityKind.REFERRAL:
        if decision is Decision.REJECT:
            await Activity.filter(id=activity.id).update(status=ActivityStatus.REJECTED)
            return 0
        return await settle_referrals(
            now=now, window=svc.return_window, keep_for=svc.keep_for, referrer_id=activity.member_id
        )
    if decision is Decision.APPROVE:
        return await _approve_review(svc, principal, activity, now)
    await _reject_review(principal, activity, now)
    return 0


def _already_decided(activity: Activity, decision: Decision) -> Recorded:
    outcome = {Decision.APPROVE: ActivityStatus.APPROVED, Decision.REJECT: ActivityStatus.REJECTED}
    same = activity.status is outcome[decision] or (
        decision is Decision.APPROVE
        and activity.kind is ActivityKind.REFERRAL
        and activity.decided_at is not None
        and activity.status is not ActivityStatus.REJECTED
    )
    if same:
        return Recorded(activity=activity, points_awarded=0, duplicate=True)
    raise Conflict(
        f"This activity is {activity.status.value.lower()}; nothing waits for a decision."
    )


async def _credit_of(activity: Activity) -> LedgerEntry | None:
    return await LedgerEntry.get_or_none(idempotency_key=f"earn:activity:{activity.id}")


async def _approve_review(
    svc: Services, principal: Principal, activity: Activity, now: datetime
) -> int:
    credit = await _credit_of(activity)
    if credit is None:  # a rule worth 0 points
        await Activity.filter(id=activity.id).update(status=ActivityStatus.APPROVED)
        return 0
    return await release_credit(
        activity.member_id,
        credit.id,
        activity.id,
        now=now,
        keep_for=svc.keep_for,
        actor=principal.actor,
        reason=f"Review of {activity.payload.get('productId')} approved",
    )


async def _reject_review(principal: Principal, activity: Activity, now: datetime) -> None:
    credit = await _credit_of(activity)
    async with in_transaction():
        member = await lock_member(activity.member_id)
        await Activity.filter(id=activity.id).update(status=ActivityStatus.REJECTED)
        if credit is None:
            return
        left = (await remaining_pending([credit.id])).get(credit.id, 0)
        if left > 0:
            await post(
                reversal(
                    member=member,
                    points=left,
                    from_pending=left,
                    lifetime=0,
                    reason=f"Review of {activity.payload.get('productId')} not approved",
                    actor=principal.actor,
                    idempotency_key=f"reject:{activity.id}",
                    activity_id=activity.id,
                    source_entry_id=credit.id,
                ),
                community=member.community,
                now=now,
            )


async def _reverse(
    svc: Services, principal: Principal, activity: Activity, note: str | None, now: datetime
) -> Recorded:
    """Remove an approved review: its points are taken back by a compensating entry."""
    if activity.kind not in _REVIEWS:
        raise Invalid("decision", "Only reviews can be reversed by a moderator.")
    if activity.status is ActivityStatus.REVERSED:
        return Recorded(activity=activity, points_awarded=0, duplicate=True)
    if activity.status is not ActivityStatus.APPROVED:
        raise Conflict("Only an approved review can be reversed.")
    await expire_due(activity.member_id, now)
    async with in_transaction():
        member = await lock_member(activity.member_id)
        won = await Activity.filter(id=activity.id, status=ActivityStatus.APPROVED).update(
            status=ActivityStatus.REVERSED,
            points=0,
            decided_by=principal.actor,
            decided_at=now,
            decision_reason=note,
        )
        if won != 1:
            await activity.refresh_from_db()
            return Recorded(activity=activity, points_awarded=0, duplicate=True)
        if activity.points > 0:
            await post(
                reversal(
                    member=member,
                    points=activity.points,
                    from_pending=0,
                    lifetime=activity.points,
                    reason=f"Review of {activity.payload.get('productId')} removed",
                    actor=principal.actor,
                    idempotency_key=f"reverse:{activity.id}",
                    activity_id=activity.id,
                ),
                community=member.community,
                now=now,
            )
    await svc.events.points_committed()
    await award_badges(svc, activity.member_id, [activity.kind])  # may revoke
    taken = activity.points
    await activity.refresh_from_db()
    return Recorded(activity=activity, points_awarded=-taken, duplicate=False)


async def activities_page(
    svc: Services, member_id: int, *, first: int, after: str | None
) -> ActivityPage:
    """A member's activities, newest first, with status and points."""
    size = page_size(svc, "first", first)
    query = Activity.filter(member_id=member_id)
    if after is not None:
        query = query.filter(id__lt=decode_cursor("activity", after))
    rows = await query.order_by("-id").limit(size + 1)
    return ActivityPage(activities=rows[:size], has_next_page=len(rows) > size)
