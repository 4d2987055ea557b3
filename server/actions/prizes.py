"""The prize catalog: admins create, change and archive prizes and load code pools;
everyone pages through what can be redeemed now. Redeeming is in ``redemptions``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import decode_cursor, encode_cursor, find_by_id, page_size, require
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import Invalid
from server.rewards.prizes import (
    Prize,
    PrizeCode,
    PrizeKind,
    Redemption,
    RedemptionStatus,
    available_at,
)
from server.rewards.tiers import Tier

__all__ = [
    "PrizeFields",
    "PrizePage",
    "archive_prize",
    "create_prize",
    "load_codes",
    "prize_by_id",
    "prize_cursor",
    "prizes_by_ids",
    "prizes_page",
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
        out["name"] = v.clean_text("name", fields.name or "", max_length=120, display=True)
    if fields.description is not None:
        out["description"] = v.optional_text("description", fields.description, max_length=1000)
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


async def prize_by_id(prize_id: str) -> Prize:
    """Any prize (archived ones too) by the id a client gave; ``NotFound`` if none."""
    return await find_by_id(Prize, "prizeId", prize_id, "prize")


async def prizes_by_ids(ids: Iterable[int]) -> dict[int, Prize]:
    """Prizes by primary key in one query (for DataLoaders, e.g. a redemption's prize)."""
    wanted = list(set(ids))
    return {p.id: p for p in await Prize.filter(id__in=wanted)} if wanted else {}


async def update_prize(principal: Principal, prize_id: str, fields: PrizeFields) -> Prize:
    """ADMIN: change a prize. A new stock counts redemptions already made: it cannot go
    below them."""
    require(principal, Role.ADMIN)
    prize = await prize_by_id(prize_id)
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
    prize = await prize_by_id(prize_id)
    await Prize.filter(id=prize.id).update(archived=True, updated_by=principal.actor)
    await prize.refresh_from_db()
    return prize


@dataclass(frozen=True, slots=True)
class PrizePage:
    """A page of prizes and whether more follow; ``end_cursor`` continues after it."""

    prizes: list[Prize]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return prize_cursor(self.prizes[-1]) if self.prizes else None


def prize_cursor(prize: Prize) -> str:
    """The cursor that continues a prize page after ``prize``."""
    return encode_cursor("prize", prize.id)


async def prizes_page(svc: Services, *, first: int, after: str | None) -> PrizePage:
    """Prizes that can be redeemed now, by id (stable cursors), filtered in SQL."""
    size = page_size(svc, "first", first)
    query = Prize.filter(available_at(svc.clock()))
    if after is not None:
        query = query.filter(id__gt=decode_cursor("prize", after))
    found = await query.order_by("id").limit(size + 1)
    return PrizePage(prizes=found[:size], has_next_page=len(found) > size)


async def load_codes(
    prize_id: str, codes: Iterable[str], *, on_batch: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Add codes to a prize's pool (one per line; blanks skipped): (added, already there).

    A pool prize hands out only pool codes; a limited stock grows by the codes added.
    """
    prize = await prize_by_id(prize_id)
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
