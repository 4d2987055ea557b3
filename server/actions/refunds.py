"""Refunds of recorded purchases, reported by the shop's backend."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import (
    Keyed,
    Recorded,
    require,
    same_request,
    scoped_key,
    stored_under,
)
from server.actions.effects import award_badges
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, Refund
from server.rewards.engine import refund_take
from server.rewards.errors import Invalid, NotFound
from server.rewards.events import EventType, record_activity
from server.rewards.expiry import expire_due
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.pending import remaining_pending
from server.rewards.posting import lock_member, post, reversal
from server.rewards.referrals import settle_referrals
from server.rewards.text import msg, msg_n

__all__ = ["refund_purchase"]


async def refund_purchase(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    order_id: str,
    amount_cents: int,
) -> Recorded:
    """SERVICE or ADMIN: a full or partial refund takes back the purchase's points in proportion.

    Pending points go first, then spendable ones; what the balance cannot cover
    is recorded as debt and settled from later earnings. A full refund also
    cancels (or takes back) the referral reward the purchase qualified.
    ``pointsAwarded`` is negative: the points taken back by this call.
    """
    require(principal, Role.SERVICE, Role.ADMIN)  # README: ADMIN may all SERVICE may
    keyed = await scoped_key("refund", principal, idempotency_key, Refund)
    key = keyed.key
    order_id = v.clean_text("orderId", order_id, max_length=128)
    amount_cents = v.amount_cents("amountCents", amount_cents, maximum=svc.max_amount_cents)
    purchase = await Activity.get_or_none(dedupe_key=f"purchase:{order_id}")
    if purchase is None:
        raise NotFound(msg("No purchase with order id {order_id!r}.", order_id=order_id))
    request_hash = v.fingerprint(order=order_id, cents=amount_cents)
    replay = await _refund_replay(keyed, request_hash, purchase)
    if replay is not None:
        return replay
    now = svc.clock()
    await expire_due(purchase.member_id, now)
    try:
        async with in_transaction():
            member = await lock_member(purchase.member_id)
            order_cents = int(purchase.payload.get("amountCents", 0))  # type: ignore[call-overload]
            earlier = await Refund.filter(purchase_id=purchase.id).values_list(
                "amount_cents", "points_taken"
            )
            refunded = sum(int(c) for c, _ in earlier) + amount_cents
            if refunded > order_cents:
                left = order_cents - (refunded - amount_cents)
                raise Invalid(
                    "amountCents",
                    msg_n(
                        "Only {left} cents of this order are left to refund.",
                        "Only {left} cents of this order are left to refund.",
                        left,
                        left=left,
                    ),
                )
            taken_before = sum(int(p) for _, p in earlier)
            take = refund_take(purchase.points_awarded, refunded, order_cents, taken_before)
            await Refund.create(
                purchase_id=purchase.id,
                idempotency_key=key,
                request_hash=request_hash,
                amount_cents=amount_cents,
                points_taken=take,
            )
            if take > 0:
                await _take_back(purchase, member, take, key, principal, now)
            if refunded == order_cents:
                reversed_now = (
                    await Activity.filter(id=purchase.id)
                    .exclude(status=ActivityStatus.REVERSED)
                    .update(status=ActivityStatus.REVERSED)
                )
                if reversed_now:
                    await record_activity(
                        EventType.ACTIVITY_REVERSED, purchase, ActivityStatus.REVERSED
                    )
    except IntegrityError:
        replay = await _refund_replay(Keyed(key), request_hash, purchase)
        if replay is None:
            raise
        return replay
    paid: set[int] = set()
    await settle_referrals(
        now=now,
        window=svc.return_window,
        keep_for=svc.keep_for,
        referee_id=purchase.member_id,
        paid_to=paid,
    )
    await svc.events.committed()
    # A refund can take back badges (orders kept, amount spent) and a referrer's.
    await award_badges(svc, purchase.member_id, [ActivityKind.PURCHASE])
    for referrer in sorted(paid):
        await award_badges(svc, referrer, [ActivityKind.REFERRAL])
    await purchase.refresh_from_db()
    return Recorded(activity=purchase, points_awarded=-take, duplicate=False)


async def _take_back(
    purchase: Activity, member: Member, take: int, key: str, principal: Principal, now: datetime
) -> None:
    credit = await LedgerEntry.get_or_none(idempotency_key=f"earn:activity:{purchase.id}")
    if credit is None:
        return
    still_pending = (await remaining_pending([credit.id])).get(credit.id, 0)
    from_pending = min(take, still_pending)
    await post(
        reversal(
            member=member,
            points=take,
            from_pending=from_pending,
            lifetime=take,
            reason=f"Refund of order {purchase.target}",
            actor=principal.actor,
            idempotency_key=f"reversal:{key}",
            activity_id=purchase.id,
            source_entry_id=credit.id,
        ),
        community=member.community,
        now=now,
    )
    if purchase.status is ActivityStatus.APPROVED:  # its points were spendable
        await Activity.filter(id=purchase.id).update(points=F("points") - (take - from_pending))


async def _refund_replay(
    keyed: Keyed[Refund], request_hash: str, purchase: Activity
) -> Recorded | None:
    refund = await stored_under(Refund, keyed)
    if refund is None:
        return None
    same_request(refund.request_hash, request_hash)
    await purchase.refresh_from_db()
    return Recorded(activity=purchase, points_awarded=-refund.points_taken, duplicate=True)
