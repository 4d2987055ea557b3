"""Redemptions: shoppers spend points on prizes; staff cancel (points and stock come
back) or fulfil them.

A redemption is one transaction: every check, the stock, the points and the
code either all happen or none does, and the caller gets the typed error. A
code is shown whole only to the shopper who owns it (``RedemptionView``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import (
    Keyed,
    find_by_id,
    require,
    same_request,
    scoped_key,
    stored_under,
)
from server.actions.prizes import prize_by_id
from server.actions.services import Services
from server.actions.tiers import tier_standing
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import Conflict, LimitReached, OutOfStock, PermissionDenied
from server.rewards.events import EventType, record
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post
from server.rewards.prizes import (
    Prize,
    PrizeCode,
    Redemption,
    RedemptionStatus,
    new_code,
    redeemable,
)
from server.rewards.text import msg, msg_n
from server.rewards.tiers import Tier

__all__ = [
    "Redeemed",
    "RedemptionView",
    "cancel_redemption",
    "fulfill_redemption",
    "redeem_prize",
    "redemptions_of",
]


@dataclass(frozen=True, slots=True)
class RedemptionView:
    """A redemption as one caller may see it: ``code`` is whole for the shopper who
    redeemed it and masked to its last four characters for anyone else, staff included."""

    row: Redemption
    code: str


def _view(principal: Principal, row: Redemption) -> RedemptionView:
    owner = principal.role is Role.SHOPPER and principal.member_id == row.member_id
    return RedemptionView(row=row, code=row.code if owner else "••••" + row.code[-4:])


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A prize redeemed (or the first result again, ``duplicate``) and the member after."""

    redemption: RedemptionView
    member: Member
    duplicate: bool


async def _replay(
    principal: Principal, keyed: Keyed[Redemption], request_hash: str
) -> Redeemed | None:
    found = await stored_under(Redemption, keyed)
    if found is None:
        return None
    same_request(found.request_hash, request_hash)
    member = await Member.get(id=found.member_id)
    return Redeemed(_view(principal, found), member, duplicate=True)


async def redeem_prize(
    svc: Services, principal: Principal, *, idempotency_key: str, prize_id: str
) -> Redeemed:
    """SHOPPER: spend points on a prize; the code comes back at once."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied(msg("Only a signed-in shopper can redeem a prize."))
    keyed = await scoped_key("redeem", principal, idempotency_key, Redemption)
    key = keyed.key
    prize = await prize_by_id(prize_id)
    request_hash = v.fingerprint(prize=prize.id)
    replay = await _replay(principal, keyed, request_hash)
    if replay is not None:
        return replay
    now = svc.clock()
    if not redeemable(prize, now):  # the row read just now
        raise Conflict(msg("{prize} cannot be redeemed now.", prize=prize.name))
    member_id = principal.member_id
    if prize.min_tier_id is not None:
        await _check_tier(svc, member_id, prize.min_tier_id)
    await expire_due(member_id, now)  # never spend points already expired
    try:
        async with in_transaction():
            await lock_member(member_id)
            redemption = await _redeem(svc, member_id, prize, key, request_hash, now)
    except IntegrityError:
        replay = await _replay(principal, Keyed(key), request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.committed()
    member = await Member.get(id=member_id)
    return Redeemed(_view(principal, redemption), member, duplicate=False)


async def _check_tier(svc: Services, member_id: int, min_tier_id: int) -> None:
    needed = await Tier.get_or_none(id=min_tier_id)
    held = (await tier_standing(svc, member_id)).tier
    if needed is not None and (held is None or held.threshold < needed.threshold):
        raise PermissionDenied(msg("This prize needs the {tier} tier.", tier=needed.name))


async def _redeem(
    svc: Services, member_id: int, prize: Prize, key: str, request_hash: str, now: datetime
) -> Redemption:
    """Inside the transaction, under the member's row lock; any failure rolls it all back."""
    if prize.per_member_limit is not None:
        taken = (
            await Redemption.filter(member_id=member_id, prize_id=prize.id)
            .exclude(status=RedemptionStatus.CANCELLED)
            .count()
        )
        if taken >= prize.per_member_limit:
            most = prize.per_member_limit
            raise LimitReached(
                msg_n(
                    "At most {most} of {prize} per member.",
                    "At most {most} of {prize} per member.",
                    most,
                    most=most,
                    prize=prize.name,
                )
            )
    if prize.stock_left is not None:
        won = await Prize.filter(id=prize.id, stock_left__gt=0).update(
            stock_left=F("stock_left") - 1
        )
        if won != 1:
            raise OutOfStock(msg("{prize} is out of stock.", prize=prize.name))
    await post(
        Posting(
            member_id=member_id,
            kind=EntryKind.SPEND,
            amount=-prize.cost,
            reason=f"Redeemed {prize.name}",
            actor=f"member:{member_id}",
            idempotency_key=f"spend:{key}",
            request_hash=request_hash,
        ),
        community=None,
        now=now,
    )
    pooled = None
    if prize.uses_pool:
        pooled = (
            await PrizeCode.filter(prize_id=prize.id, redemption_id__isnull=True)
            .select_for_update(skip_locked=True)
            .order_by("id")
            .first()
        )
        if pooled is None:
            raise OutOfStock(msg("{prize} has no codes left.", prize=prize.name))
    redemption = await Redemption.create(
        member_id=member_id,
        prize_id=prize.id,
        cost=prize.cost,
        code=pooled.code if pooled else new_code(),
        status=RedemptionStatus.RESERVED,
        idempotency_key=key,
        request_hash=request_hash,
        created_at=now,
    )
    if pooled is not None:
        claimed = await PrizeCode.filter(id=pooled.id, redemption_id__isnull=True).update(
            redemption_id=redemption.id
        )
        if claimed != 1:  # SQLite has no row locks: another redemption took it first
            raise Conflict(msg("Please try again."))
    await record(EventType.REDEMPTION_CREATED, member_id, _about(redemption))
    return redemption


def _about(redemption: Redemption) -> dict[str, int]:
    return {
        "redemption_id": redemption.id,
        "prize_id": redemption.prize_id,
        "points": redemption.cost,
    }


async def _redemption(redemption_id: str) -> Redemption:
    return await find_by_id(Redemption, "redemptionId", redemption_id, "redemption")


async def cancel_redemption(
    svc: Services, principal: Principal, *, redemption_id: str, reason: str | None
) -> tuple[RedemptionView, bool]:
    """ADMIN or SERVICE: give the points and the stock back, exactly once.

    Returns the redemption (code masked) and whether this call cancelled it (False: it
    already was).
    """
    require(principal, Role.ADMIN, Role.SERVICE)
    found = await _redemption(redemption_id)
    note = (
        None if not reason or not reason.strip() else v.clean_text("reason", reason, max_length=500)
    )
    now = svc.clock()
    async with in_transaction():
        member = await lock_member(found.member_id)
        won = await Redemption.filter(id=found.id, status=RedemptionStatus.RESERVED).update(
            status=RedemptionStatus.CANCELLED,
            decided_by=principal.actor,
            decided_at=now,
            cancel_reason=note,
        )
        if won != 1:
            await found.refresh_from_db()
            if found.status is RedemptionStatus.CANCELLED:
                return _view(principal, found), False
            raise Conflict(msg("This redemption was fulfilled; it cannot be cancelled."))
        await record(EventType.REDEMPTION_CANCELLED, found.member_id, _about(found))
        await Prize.filter(id=found.prize_id, stock_left__isnull=False).update(
            stock_left=F("stock_left") + 1
        )
        await post(
            Posting(
                member_id=member.id,
                kind=EntryKind.RETURN,
                amount=found.cost,
                reason="Redemption cancelled" + (f": {note}" if note else ""),
                actor=principal.actor,
                idempotency_key=f"return:{found.id}",
                request_hash="",
                expires_at=now + svc.keep_for if svc.keep_for else None,
            ),
            community=member.community,
            now=now,
        )
    await svc.events.committed()
    await found.refresh_from_db()
    return _view(principal, found), True


async def fulfill_redemption(
    svc: Services, principal: Principal, *, redemption_id: str
) -> RedemptionView:
    """ADMIN or SERVICE: the code was used (or the parcel sent). Repeating it is harmless."""
    require(principal, Role.ADMIN, Role.SERVICE)
    found = await _redemption(redemption_id)
    async with in_transaction():
        won = await Redemption.filter(id=found.id, status=RedemptionStatus.RESERVED).update(
            status=RedemptionStatus.FULFILLED, decided_by=principal.actor, decided_at=svc.clock()
        )
        if won == 1:
            await record(EventType.REDEMPTION_FULFILLED, found.member_id, _about(found))
    await found.refresh_from_db()
    if won != 1 and found.status is RedemptionStatus.CANCELLED:
        raise Conflict(msg("This redemption was cancelled; it cannot be fulfilled."))
    return _view(principal, found)


async def redemptions_of(principal: Principal, member_id: int) -> list[RedemptionView]:
    """A member's redemptions, newest first, with their prizes; codes whole for the
    member only."""
    rows = await Redemption.filter(member_id=member_id).prefetch_related("prize").order_by("-id")
    return [_view(principal, row) for row in rows]
