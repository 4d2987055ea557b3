"""Prizes: the catalog (admins), redemption (shoppers), cancel and fulfil (staff).

A redemption is one transaction: every check, the stock, the points and the
code either all happen or none does, and the caller gets the typed error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import (
    Services,
    decode_cursor,
    encode_cursor,
    find_by_id,
    page_size,
    require,
    same_request,
    scoped_key,
)
from server.actions.tiers import tier_standing
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import (
    Conflict,
    Invalid,
    LimitReached,
    OutOfStock,
    PermissionDenied,
)
from server.rewards.expiry import expire_due
from server.rewards.ledger import EntryKind, Posting, lock_member, post
from server.rewards.members import Member
from server.rewards.prizes import (
    Prize,
    PrizeCode,
    PrizeKind,
    Redemption,
    RedemptionStatus,
    new_code,
)
from server.rewards.tiers import Tier

__all__ = [
    "PrizeFields",
    "PrizePage",
    "Redeemed",
    "archive_prize",
    "cancel_redemption",
    "create_prize",
    "fulfill_redemption",
    "load_codes",
    "prize_cursor",
    "prizes_page",
    "redeem_prize",
    "redemptions_of",
    "update_prize",
]

_MAX_COST = 10_000_000
_MAX_STOCK = 1_000_000


@dataclass(frozen=True, slots=True)
class PrizeFields:
    """What an admin sets on a prize; ``None`` in an update means "unchanged"."""

    name: str | None = None
    description: str | None = None
    cost: int | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier_id: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    kind: PrizeKind | None = None


async def _columns(fields: PrizeFields, *, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fields.name is not None or creating:
        out["name"] = v.clean_text("name", fields.name or "", max_length=120)
    if fields.description is not None:
        if len(fields.description) > 1000:
            raise Invalid("description", "description must be at most 1000 characters.")
        out["description"] = fields.description.strip()
    if fields.cost is not None or creating:
        if fields.cost is None or not 1 <= fields.cost <= _MAX_COST:
            raise Invalid("cost", f"cost must be between 1 and {_MAX_COST:,} points.")
        out["cost"] = fields.cost
    if fields.stock is not None:
        if not 0 <= fields.stock <= _MAX_STOCK:
            raise Invalid("stock", f"stock must be between 0 and {_MAX_STOCK:,} (or null).")
        out["stock"] = fields.stock
    if fields.per_member_limit is not None:
        if not 1 <= fields.per_member_limit <= 1000:
            raise Invalid("perMemberLimit", "perMemberLimit must be between 1 and 1000.")
        out["per_member_limit"] = fields.per_member_limit
    if fields.min_tier_id is not None:
        pk = v.parse_id("minTierId", fields.min_tier_id)
        if pk is None or not await Tier.exists(id=pk):
            raise Invalid("minTierId", f"No tier with id {fields.min_tier_id!r}.")
        out["min_tier_id"] = pk
    for name in ("available_from", "available_until", "kind"):
        if getattr(fields, name) is not None:
            out[name] = getattr(fields, name)
    return out


def _check_window(prize: Prize | None, columns: dict[str, Any]) -> None:
    start = columns.get("available_from", prize.available_from if prize else None)
    end = columns.get("available_until", prize.available_until if prize else None)
    if start is not None and end is not None and end <= start:
        raise Invalid("availableUntil", "availableUntil must be after availableFrom.")


async def create_prize(principal: Principal, fields: PrizeFields) -> Prize:
    """ADMIN: a prize in the catalog."""
    require(principal, Role.ADMIN)
    columns = await _columns(fields, creating=True)
    _check_window(None, columns)
    return await Prize.create(
        stock_left=columns.get("stock"), updated_by=principal.actor, **columns
    )


async def _prize(prize_id: str) -> Prize:
    return await find_by_id(Prize, "prizeId", prize_id, "prize")


async def update_prize(principal: Principal, prize_id: str, fields: PrizeFields) -> Prize:
    """ADMIN: change a prize. A new stock counts redemptions already made: it cannot go
    below them."""
    require(principal, Role.ADMIN)
    prize = await _prize(prize_id)
    columns = await _columns(fields, creating=False)
    _check_window(prize, columns)
    async with in_transaction():
        if "stock" in columns:
            taken = (
                (prize.stock or 0) - (prize.stock_left or 0)
                if prize.stock is not None
                else (
                    await Redemption.filter(prize_id=prize.id)
                    .exclude(status=RedemptionStatus.CANCELLED)
                    .count()
                )
            )
            if columns["stock"] < taken:
                raise Invalid("stock", f"{taken} were redeemed already: stock cannot be lower.")
            columns["stock_left"] = columns["stock"] - taken
        await Prize.filter(id=prize.id).update(updated_by=principal.actor, **columns)
    await prize.refresh_from_db()
    return prize


async def archive_prize(principal: Principal, prize_id: str) -> Prize:
    """ADMIN: take a prize out of the catalog; its redemptions stay."""
    require(principal, Role.ADMIN)
    prize = await _prize(prize_id)
    await Prize.filter(id=prize.id).update(archived=True, updated_by=principal.actor)
    await prize.refresh_from_db()
    return prize


@dataclass(frozen=True, slots=True)
class PrizePage:
    prizes: list[Prize]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return prize_cursor(self.prizes[-1]) if self.prizes else None


def prize_cursor(prize: Prize) -> str:
    return encode_cursor("prize", prize.id)


def _available(prize: Prize, now: datetime) -> bool:
    return (
        not prize.archived
        and (prize.available_from is None or prize.available_from <= now)
        and (prize.available_until is None or now < prize.available_until)
    )


async def prizes_page(svc: Services, *, first: int, after: str | None) -> PrizePage:
    """Prizes that can be redeemed now, cheapest first... by id, for stable cursors."""
    size = page_size(svc, "first", first)
    now = svc.clock()
    query = Prize.filter(archived=False)
    if after is not None:
        query = query.filter(id__gt=decode_cursor("prize", after))
    found: list[Prize] = []
    async for prize in query.order_by("id"):
        if _available(prize, now):
            found.append(prize)
            if len(found) > size:
                break
    return PrizePage(prizes=found[:size], has_next_page=len(found) > size)


@dataclass(frozen=True, slots=True)
class Redeemed:
    redemption: Redemption
    member: Member
    duplicate: bool


async def _replay(key: str, request_hash: str) -> Redeemed | None:
    found = await Redemption.get_or_none(idempotency_key=key)
    if found is None:
        return None
    same_request(found.request_hash, request_hash)
    return Redeemed(found, await Member.get(id=found.member_id), duplicate=True)


async def redeem_prize(
    svc: Services, principal: Principal, *, idempotency_key: str, prize_id: str
) -> Redeemed:
    """SHOPPER: spend points on a prize; the code comes back at once."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied("Only a signed-in shopper can redeem a prize.")
    key = scoped_key("redeem", principal, idempotency_key)
    prize = await _prize(prize_id)
    request_hash = v.fingerprint(prize=prize.id)
    replay = await _replay(key, request_hash)
    if replay is not None:
        return replay
    now = svc.clock()
    if not _available(prize, now):
        raise Conflict(f"{prize.name} cannot be redeemed now.")
    member_id = principal.member_id
    if prize.min_tier_id is not None:
        await _check_tier(svc, member_id, prize.min_tier_id)
    await expire_due(member_id, now)  # never spend points already expired
    try:
        async with in_transaction():
            await lock_member(member_id)
            redemption = await _redeem(svc, member_id, prize, key, request_hash, now)
    except IntegrityError:
        replay = await _replay(key, request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.points_committed()
    return Redeemed(redemption, await Member.get(id=member_id), duplicate=False)


async def _check_tier(svc: Services, member_id: int, min_tier_id: int) -> None:
    needed = await Tier.get_or_none(id=min_tier_id)
    held = (await tier_standing(svc, member_id)).tier
    if needed is not None and (held is None or held.threshold < needed.threshold):
        raise PermissionDenied(f"This prize needs the {needed.name} tier.")


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
            raise LimitReached(f"At most {prize.per_member_limit} of {prize.name} per member.")
    if prize.stock_left is not None:
        won = await Prize.filter(id=prize.id, stock_left__gt=0).update(
            stock_left=F("stock_left") - 1
        )
        if won != 1:
            raise OutOfStock(f"{prize.name} is out of stock.")
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
            raise OutOfStock(f"{prize.name} has no codes left.")
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
            raise Conflict("Please try again.")
    return redemption


async def _redemption(redemption_id: str) -> Redemption:
    return await find_by_id(Redemption, "redemptionId", redemption_id, "redemption")


async def cancel_redemption(
    svc: Services, principal: Principal, *, redemption_id: str, reason: str | None
) -> tuple[Redemption, bool]:
    """ADMIN or SERVICE: give the points and the stock back, exactly once.

    Returns the redemption and whether this call cancelled it (False: it already was).
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
                return found, False
            raise Conflict("This redemption was fulfilled; it cannot be cancelled.")
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
    await svc.events.points_committed()
    await found.refresh_from_db()
    return found, True


async def fulfill_redemption(
    svc: Services, principal: Principal, *, redemption_id: str
) -> Redemption:
    """ADMIN or SERVICE: the code was used (or the parcel sent). Repeating it is harmless."""
    require(principal, Role.ADMIN, Role.SERVICE)
    found = await _redemption(redemption_id)
    won = await Redemption.filter(id=found.id, status=RedemptionStatus.RESERVED).update(
        status=RedemptionStatus.FULFILLED, decided_by=principal.actor, decided_at=svc.clock()
    )
    await found.refresh_from_db()
    if won != 1 and found.status is RedemptionStatus.CANCELLED:
        raise Conflict("This redemption was cancelled; it cannot be fulfilled.")
    return found


async def redemptions_of(member_id: int) -> list[Redemption]:
    return await Redemption.filter(member_id=member_id).prefetch_related("prize").order_by("-id")


async def load_codes(
    prize_id: str, codes: Iterable[str], *, on_batch: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Add codes to a prize's pool (one per line; blanks skipped): (added, already there).

    A pool prize hands out only pool codes; a limited stock grows by the codes added.
    """
    prize = await _prize(prize_id)
    added = known = 0
    batch: list[str] = []

    async def flush() -> None:
        nonlocal added, known
        wanted = list(dict.fromkeys(batch))
        rows = await PrizeCode.filter(prize_id=prize.id, code__in=wanted).values_list(
            "code", flat=True
        )
        there = {str(c) for c in rows}
        fresh = [c for c in wanted if c not in there]
        known += len(batch) - len(fresh)
        async with in_transaction():
            await PrizeCode.bulk_create([PrizeCode(prize_id=prize.id, code=c) for c in fresh])
            await Prize.filter(id=prize.id).update(uses_pool=True)
            await Prize.filter(id=prize.id, stock_left__isnull=False).update(
                stock=F("stock") + len(fresh), stock_left=F("stock_left") + len(fresh)
            )
        added += len(fresh)
        if on_batch is not None:
            on_batch(len(batch))
        batch.clear()

    for line in codes:
        code = line.strip()
        if not code:
            continue
        if len(code) > 64 or not code.isprintable():
            raise Invalid("codes", f"Not a code: {code[:70]!r} (at most 64 printable characters).")
        batch.append(code)
        if len(batch) == 1000:
            await flush()
    if batch:
        await flush()
    return added, known
