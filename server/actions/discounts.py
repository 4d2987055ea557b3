"""Points for a discount code at checkout, and the rule the admin sets for it.

A discount is one transaction like a prize redemption: the points are debited by the
same conditional UPDATE and ledger entry, the code stored, and ``redemption.created``
appended with the code and its value, so the shop (through its webhook) creates the
code in its checkout. Idempotent by the shopper's key.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.actions.common import Keyed, require, same_request, scoped_key, stored_under
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.discounts import DiscountCode, DiscountRule, discount_rule, discount_value_cents
from server.rewards.errors import Invalid, PermissionDenied
from server.rewards.events import EventType, record
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post
from server.rewards.prizes import new_code
from server.rewards.text import msg

__all__ = ["DiscountRedeemed", "redeem_points_for_discount", "update_discount_rule"]


@dataclass(frozen=True, slots=True)
class DiscountRedeemed:
    discount: DiscountCode
    member: Member
    duplicate: bool


async def update_discount_rule(
    principal: Principal,
    *,
    points_per_currency_unit: int,
    min_points: int,
    max_points: int,
    step_points: int,
    enabled: bool = True,
) -> DiscountRule:
    """ADMIN: the rate and bounds of points-for-discount."""
    require(principal, Role.ADMIN)
    if not 1 <= points_per_currency_unit <= 100_000:
        raise Invalid("pointsPerCurrencyUnit", msg("pointsPerCurrencyUnit must be 1 to 100,000."))
    if not 1 <= step_points <= 1_000_000:
        raise Invalid("stepPoints", msg("stepPoints must be 1 to 1,000,000."))
    if not 1 <= min_points <= max_points <= v.MAX_POINT_TOTAL:
        raise Invalid("minPoints", msg("minPoints must be at least 1 and at most maxPoints."))
    await discount_rule()
    await DiscountRule.filter(id=1).update(
        points_per_currency_unit=points_per_currency_unit,
        min_points=min_points,
        max_points=max_points,
        step_points=step_points,
        enabled=enabled,
        updated_by=principal.actor,
    )
    return await DiscountRule.get(id=1)


async def redeem_points_for_discount(
    svc: Services, principal: Principal, *, idempotency_key: str, points: int
) -> DiscountRedeemed:
    """SHOPPER: ``points`` off the balance for a code worth the rule's value of them."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied(
            msg("Only a signed-in shopper can turn their points into a discount.")
        )
    member_id = principal.member_id
    keyed = await scoped_key("discount", principal, idempotency_key, DiscountCode)
    key = keyed.key
    request_hash = v.fingerprint(points=points)
    replay = await _replay(keyed, request_hash)
    if replay is not None:
        return replay
    value = discount_value_cents(await discount_rule(), points)
    now = svc.clock()
    await expire_due(member_id, now)  # never spend points already expired
    try:
        async with in_transaction():
            await lock_member(member_id)
            await post(
                Posting(
                    member_id=member_id,
                    kind=EntryKind.SPEND,
                    amount=-points,
                    reason=f"Discount code worth {value / 100:.2f}",
                    actor=f"member:{member_id}",
                    idempotency_key=f"spend:{key}",
                    request_hash=request_hash,
                ),
                community=None,
                now=now,
            )
            code = await DiscountCode.create(
                member_id=member_id,
                points=points,
                value_cents=value,
                code=new_code(),
                idempotency_key=key,
                request_hash=request_hash,
                created_at=now,
            )
            await record(
                EventType.REDEMPTION_CREATED,
                member_id,
                {
                    "discount_id": code.id,
                    "code": code.code,
                    "value_cents": value,
                    "points": points,
                },
            )
    except IntegrityError:
        replay = await _replay(Keyed(key), request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.committed()
    return DiscountRedeemed(code, await Member.get(id=member_id), duplicate=False)


async def _replay(keyed: Keyed[DiscountCode], request_hash: str) -> DiscountRedeemed | None:
    found = await stored_under(DiscountCode, keyed)
    if found is None:
        return None
    same_request(found.request_hash, request_hash)
    return DiscountRedeemed(found, await Member.get(id=found.member_id), duplicate=True)
