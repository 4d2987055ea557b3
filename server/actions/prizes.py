"""The prize catalog: admins create, change, archive and stock prizes; everyone pages it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import decode_cursor, encode_cursor, find_by_id, page_size, require
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import Conflict, Invalid
from server.rewards.prizes import (
    Prize,
    PrizeCode,
    PrizeKind,
    Redemption,
    RedemptionStatus,
    available_at,
)
from server.rewards.text import msg, msg_n
from server.rewards.tiers import Tier

__all__ = [
    "MAX_CODES_PER_CALL",
    "CodesAdded",
    "PrizeFields",
    "PrizePage",
    "add_prize_codes",
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
# Codes in one ``addPrizeCodes``: a text file of gift cards is a few thousand lines.
MAX_CODES_PER_CALL = 10_000
_MAX_CODE_LENGTH = 64
_BATCH = 1_000


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
            raise Invalid(
                "cost",
                msg_n(
                    "cost must be between 1 and {most:,} points.",
                    "cost must be between 1 and {most:,} points.",
                    _MAX_COST,
                    most=_MAX_COST,
                ),
            )
        out["cost"] = fields.cost
    if fields.stock is not None:
        if not 0 <= fields.stock <= _MAX_STOCK:
            raise Invalid(
                "stock", msg("stock must be between 0 and {most:,} (or null).", most=_MAX_STOCK)
            )
        out["stock"] = fields.stock
    if fields.per_member_limit is not None:
        if not 1 <= fields.per_member_limit <= 1000:
            raise Invalid("perMemberLimit", msg("perMemberLimit must be between 1 and 1000."))
        out["per_member_limit"] = fields.per_member_limit
    if fields.min_tier_id is not None:
        pk = v.parse_id("minTierId", fields.min_tier_id)
        if pk is None or not await Tier.exists(id=pk):
            raise Invalid("minTierId", msg("No tier with id {id!r}.", id=fields.min_tier_id))
        out["min_tier_id"] = pk
    for name in ("available_from", "available_until", "kind"):
        if getattr(fields, name) is not None:
            out[name] = getattr(fields, name)
    return out


def _check_window(prize: Prize | None, columns: dict[str, Any]) -> None:
    start = columns.get("available_from", prize.available_from if prize else None)
    end = columns.get("available_until", prize.available_until if prize else None)
    if start is not None and end is not None and end <= start:
        raise Invalid("availableUntil", msg("availableUntil must be after availableFrom."))


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
                raise Invalid(
                    "stock",
                    msg_n(
                        "{taken} were redeemed already: stock cannot be lower.",
                        "{taken} were redeemed already: stock cannot be lower.",
                        taken,
                        taken=taken,
                    ),
                )
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


@dataclass(frozen=True, slots=True)
class CodesAdded:
    """What ``add_prize_codes`` did: codes added, codes skipped (already in the pool, or
    given twice), and the prize as it is now."""

    added: int
    skipped: int
    prize: Prize


async def add_prize_codes(principal: Principal, prize_id: str, codes: Sequence[str]) -> CodesAdded:
    """ADMIN: ``load_codes`` for the API, at most ``MAX_CODES_PER_CALL`` entries a call and
    all or nothing: a bad code anywhere adds none. Sending the same codes again adds 0."""
    require(principal, Role.ADMIN)
    if len(codes) > MAX_CODES_PER_CALL:
        raise Invalid(
            "codes",
            msg_n(
                "At most {most:,} codes in one call ({given:,} given): send the rest in another.",
                "At most {most:,} codes in one call ({given:,} given): send the rest in another.",
                MAX_CODES_PER_CALL,
                most=MAX_CODES_PER_CALL,
                given=len(codes),
            ),
        )
    async with in_transaction():
        added, skipped = await load_codes(prize_id, codes)
    prize = await prize_by_id(prize_id)
    return CodesAdded(added=added, skipped=skipped, prize=prize)


def _clean_codes(codes: Iterable[str]) -> list[str]:
    """The codes given, stripped, blanks left out. The first bad one is named by its
    position among the entries given, counted from 1: a file's line number."""
    clean: list[str] = []
    for position, line in enumerate(codes, start=1):
        code = line.strip()
        if not code:
            continue
        if len(code) > _MAX_CODE_LENGTH or not code.isprintable():
            raise Invalid(
                "codes",
                msg_n(
                    "Code {position} is not a code: {code} (at most {most} printable characters).",
                    "Code {position} is not a code: {code} (at most {most} printable characters).",
                    _MAX_CODE_LENGTH,
                    position=position,
                    code=v.excerpt(code),
                    most=_MAX_CODE_LENGTH,
                ),
            )
        clean.append(code)
    return clean


async def load_codes(
    prize_id: str, codes: Iterable[str], *, on_batch: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Add codes to a prize's pool (one per line; blanks skipped): (added, already there).

    Every code is checked before any is added. A pool prize hands out only pool codes; a
    limited stock grows by the codes added. Batches of 1,000 commit one by one (the CLI's
    progress) unless the caller holds a transaction. Codes added at the same moment by
    another caller are a ``Conflict``: sending them again skips those already there.
    """
    prize = await prize_by_id(prize_id)
    clean = _clean_codes(codes)
    added = known = 0
    for start in range(0, len(clean), _BATCH):
        batch = clean[start : start + _BATCH]
        wanted = list(dict.fromkeys(batch))
        rows = await PrizeCode.filter(prize_id=prize.id, code__in=wanted).values_list(
            "code", flat=True
        )
        there = {str(c) for c in rows}
        fresh = [c for c in wanted if c not in there]
        try:
            async with in_transaction():
                await PrizeCode.bulk_create([PrizeCode(prize_id=prize.id, code=c) for c in fresh])
                await Prize.filter(id=prize.id).update(uses_pool=True)
                await Prize.filter(id=prize.id, stock_left__isnull=False).update(
                    stock=F("stock") + len(fresh), stock_left=F("stock_left") + len(fresh)
                )
        except IntegrityError:
            raise Conflict(
                msg(
                    "Some of these codes were being added at the same time: send them again "
                    "(codes already there are skipped)."
                )
            ) from None
        known += len(batch) - len(fresh)
        added += len(fresh)
        if on_batch is not None:
            on_batch(len(batch))
    return added, known
