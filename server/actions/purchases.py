"""Purchases and refunds, reported by the shop's backend."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.actions.common import Keyed, Recorded, activity_replay, require, scoped_key
from server.actions.effects import award_badges
from server.actions.services import Services
from server.actions.tiers import multiplier_of
from server.auth import Principal, Role
from server.rewards import holdouts
from server.rewards import validation as v
from server.rewards.activities import (
    Activity,
    ActivityKind,
    ActivityStatus,
    PurchasedProduct,
)
from server.rewards.engine import activity_points
from server.rewards.errors import Conflict, Invalid, NotFound
from server.rewards.events import EventType, record_activity
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post
from server.rewards.referrals import settle_referrals
from server.rewards.rules import rule_for
from server.rewards.standings import Qualifying, qualifying_of
from server.rewards.text import msg, msg_n
from server.rewards.tiers import ladder

__all__ = ["record_purchase"]

_MAX_PRODUCTS = 100


def _product_ids(values: list[str] | None) -> list[str]:
    if not values:
        return []
    if len(values) > _MAX_PRODUCTS:
        raise Invalid(
            "productIds",
            msg_n(
                "productIds may name at most {most} products.",
                "productIds may name at most {most} products.",
                _MAX_PRODUCTS,
                most=_MAX_PRODUCTS,
            ),
        )
    return sorted({v.clean_text("productIds", p, max_length=128) for p in values})


async def record_purchase(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    member_external_id: str,
    order_id: str,
    amount_cents: int,
    occurred_at: datetime | None = None,
    product_ids: list[str] | None = None,
) -> Recorded:
    """SERVICE or ADMIN: an order was paid. Its points stay pending through the return window."""
    require(principal, Role.SERVICE, Role.ADMIN)  # README: ADMIN may all SERVICE may
    keyed = await scoped_key("purchase", principal, idempotency_key, Activity)
    key = keyed.key
    order_id = v.clean_text("orderId", order_id, max_length=128)
    amount_cents = v.amount_cents("amountCents", amount_cents, maximum=svc.max_amount_cents)
    products = _product_ids(product_ids)
    now = svc.clock()
    occurred = v.when("occurredAt", occurred_at, now=now)
    external_id = v.clean_text("memberExternalId", member_external_id, max_length=128)
    buyer = await Member.get_or_none(external_id=external_id)
    if buyer is None:
        raise NotFound(msg("No member with external id {external_id!r}.", external_id=external_id))
    # A defaulted occurredAt ("now") is not part of the input: a retry must match.
    request_hash = v.fingerprint(
        member=buyer.id,
        order=order_id,
        cents=amount_cents,
        at=occurred.isoformat() if occurred_at is not None else None,
        products=products,
    )
    replay = await activity_replay(keyed, request_hash)
    if replay is not None:
        return replay

    rule = await rule_for(ActivityKind.PURCHASE)
    window = svc.return_window if rule.pending_days is None else timedelta(days=rule.pending_days)
    available_at = occurred + window
    tiers = await ladder()
    try:
        async with in_transaction():
            locked = await lock_member(buyer.id)
            # Under the lock, so the tier after this commit follows without a read.
            standing = Qualifying(svc.tier_window, now)
            if tiers:
                standing = (await qualifying_of([buyer.id], now, svc.tier_window))[buyer.id]
            tier = standing.held(tiers)
            tier = await holdouts.multiplier_tier(buyer.id, tier, now)  # README: Experiments
            points = activity_points(
                rule,
                multiplier_of(tier),
                purchase_cents=amount_cents,
                default_rate=svc.points_per_currency_unit,
            )
            points = await holdouts.rule_points(buyer.id, ActivityKind.PURCHASE, points, now)
            if points > v.MAX_POINT_TOTAL:
                raise Invalid(
                    "amountCents",
                    msg_n(
                        "This order would earn more than {most:,} points.",
                        "This order would earn more than {most:,} points.",
                        v.MAX_POINT_TOTAL,
                        most=v.MAX_POINT_TOTAL,
                    ),
                )
            pending = points if available_at > now else 0
            activity = await Activity.create(
                member_id=buyer.id,
                kind=ActivityKind.PURCHASE,
                status=ActivityStatus.PENDING if pending else ActivityStatus.APPROVED,
                points_awarded=points,
                points=points - pending,
                idempotency_key=key,
                request_hash=request_hash,
                dedupe_key=f"purchase:{order_id}",
                payload={"orderId": order_id, "amountCents": amount_cents, "productIds": products},
                target=order_id,
                occurred_at=occurred,
            )
            await record_activity(EventType.ACTIVITY_RECORDED, activity)
            for product in products:
                await PurchasedProduct.create(
                    member_id=buyer.id, product_id=product, purchase_id=activity.id
                )
            if points:
                entry = await post(
                    Posting(
                        member_id=buyer.id,
                        kind=EntryKind.EARN,
                        amount=points,
                        pending_delta=pending,
                        lifetime_delta=points,
                        reason=f"Purchase {order_id}",
                        actor=principal.actor,
                        idempotency_key=f"earn:activity:{activity.id}",
                        request_hash=request_hash,
                        activity_id=activity.id,
                        available_at=available_at if pending else None,
                        expires_at=now + svc.keep_for if svc.keep_for and not pending else None,
                        occurred_at=occurred,
                        multiplier=multiplier_of(tier),
                        field="amountCents",
                    ),
                    community=buyer.community,
                    now=now,
                )
                standing = standing.plus(entry)
    except IntegrityError:
        replay = await activity_replay(Keyed(key), request_hash)
        if replay is not None:
            return replay
        raise Conflict(
            msg(
                "Order {order_id} was already recorded with another idempotency key.",
                order_id=order_id,
            )
        ) from None
    paid: set[int] = set()
    await settle_referrals(
        now=now, window=window, keep_for=svc.keep_for, referee_id=buyer.id, paid_to=paid
    )
    await svc.events.committed()
    after = standing.held(tiers)
    granted = await award_badges(
        svc,
        buyer.id,
        [ActivityKind.PURCHASE],
        activity_id=activity.id,
        tier_unchanged=(after.id if after else None) == locked.tier_id,
    )
    for referrer in sorted(paid):
        await award_badges(svc, referrer, [ActivityKind.REFERRAL])
    return Recorded(
        activity=activity, points_awarded=points, duplicate=False, badges=tuple(granted)
    )
