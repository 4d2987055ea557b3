"""The one earning path for activities that go through rules and caps (reviews, shares).

Rule lookup, caps counted under the member's row lock (so concurrent calls
cannot slip past a cap), the activity and its ledger entry in one transaction,
idempotent by key; badges and the tier follow after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.actions.common import Keyed, Recorded, activity_replay, require
from server.actions.effects import award_badges
from server.actions.services import Services
from server.actions.tiers import earning_tier, multiplier_of
from server.auth import Principal, Role
from server.rewards import holdouts
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus
from server.rewards.engine import activity_points
from server.rewards.errors import Conflict, Invalid, LimitReached, NotFound, PermissionDenied
from server.rewards.events import EventType, record_activity
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post
from server.rewards.rules import EarningRule, rule_for
from server.rewards.text import Text, msg, msg_n

__all__ = ["REVIEWS", "acting_member", "ingest"]

# The kinds of a review: their caps (one per product) count together.
REVIEWS = (ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW)
_NOT_COUNTED = (ActivityStatus.REJECTED,)
# Who decided an activity that needed no moderator.
_BY_RULES = "rules"


async def acting_member(principal: Principal, member_external_id: str | None) -> Member:
    """Who an activity is for: a SHOPPER acts as themselves; SERVICE (or ADMIN) names the
    member by external id."""
    if principal.role is Role.SHOPPER:
        me = await Member.get(id=principal.member_id)
        if member_external_id not in (None, "", me.external_id):
            raise PermissionDenied(msg("A shopper can only act as themselves."))
        return me
    require(principal, Role.SERVICE, Role.ADMIN)
    if not member_external_id:
        raise Invalid("memberExternalId", msg("memberExternalId is required for staff callers."))
    external_id = v.clean_text("memberExternalId", member_external_id, max_length=128)
    found = await Member.get_or_none(external_id=external_id)
    if found is None:
        raise NotFound(
            msg("No member with external id {external_id!r}.", external_id=member_external_id)
        )
    return found


async def _check_caps(
    rule: EarningRule, kinds: tuple[ActivityKind, ...], member: Member, target: str, now: datetime
) -> None:
    mine = Activity.filter(member_id=member.id, kind__in=kinds).exclude(status__in=_NOT_COUNTED)
    if rule.target_cap is not None and await mine.filter(target=target).count() >= rule.target_cap:
        raise Conflict(_already(kinds[0]))
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if rule.daily_cap is not None and await mine.filter(occurred_at__gte=day).count() >= (
        rule.daily_cap
    ):
        cap = rule.daily_cap
        raise LimitReached(
            msg_n(
                "At most {cap} a day; try again tomorrow.",
                "At most {cap} a day; try again tomorrow.",
                cap,
                cap=cap,
            )
        )
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    if rule.monthly_cap is not None and await mine.filter(occurred_at__gte=month).count() >= (
        rule.monthly_cap
    ):
        cap = rule.monthly_cap
        raise LimitReached(msg_n("At most {cap} a month.", "At most {cap} a month.", cap, cap=cap))


def _already(kind: ActivityKind) -> Text:
    if kind in (ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW):
        return msg("Already recorded for this member: one review per product.")
    if kind is ActivityKind.SOCIAL_SHARE:
        return msg("Already recorded for this member: one share per page.")
    return msg("Already recorded for this member: once per target.")


def _inactive(kind: ActivityKind) -> Text:
    return {
        ActivityKind.REVIEW: msg("review earns no points at the moment."),
        ActivityKind.PHOTO_REVIEW: msg("photo review earns no points at the moment."),
        ActivityKind.SOCIAL_SHARE: msg("social share earns no points at the moment."),
        ActivityKind.REFERRAL: msg("referral earns no points at the moment."),
        ActivityKind.PURCHASE: msg("purchase earns no points at the moment."),
    }[kind]


async def ingest(
    svc: Services,
    principal: Principal,
    *,
    kind: ActivityKind,
    family: tuple[ActivityKind, ...],
    member: Member,
    key: Keyed[Activity],
    request_hash: str,
    target: str,
    payload: dict[str, Any],
) -> Recorded:
    """Record an activity of ``kind`` for ``member`` under its rule; ``family`` are the
    kinds its caps count together. Retries with the same key get the first result
    (``key`` carries what the caller already read under it)."""
    replay = await activity_replay(key, request_hash)
    if replay is not None:
        return replay
    rule = await rule_for(kind)
    if not rule.active:
        raise Conflict(_inactive(kind))
    now = svc.clock()
    moderated = rule.needs_moderation
    tier = await earning_tier(svc, member.id)
    tier = await holdouts.multiplier_tier(member.id, tier, now)  # README: Experiments
    points = activity_points(rule, multiplier_of(tier))
    points = await holdouts.rule_points(member.id, kind, points, now)
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
                idempotency_key=key.key,
                request_hash=request_hash,
                payload=payload,
                target=target,
                occurred_at=now,
                decided_at=None if moderated else now,
                decided_by=None if moderated else _BY_RULES,
            )
            await record_activity(EventType.ACTIVITY_RECORDED, activity)
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
        replay = await activity_replay(Keyed(key.key), request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.committed()
    granted = await award_badges(svc, member.id, [kind], activity_id=activity.id)
    return Recorded(
        activity=activity, points_awarded=points, duplicate=False, badges=tuple(granted)
    )


def _reason(kind: ActivityKind, payload: dict[str, Any]) -> str:
    if kind in REVIEWS:
        return f"Review of {payload['productId']}"
    if kind is ActivityKind.SOCIAL_SHARE:
        return f"Shared on {payload['platform']}"
    return kind.value.title()
