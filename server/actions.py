"""Use cases: one async verb per user action, taking explicit arguments and a Principal.

GraphQL resolvers and the CLI only call these. Expected failures are raised
as ``RewardsError`` subclasses and shown to callers as typed errors; every
point-moving call is idempotent by key, scoped to the caller so that two
shoppers' keys never collide.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from leaderboards import BoardPage, Leaderboards
from server.auth import Principal, Role
from server.events import Events
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus
from server.rewards.errors import Conflict, Invalid, NotFound, PermissionDenied
from server.rewards.ledger import (
    EntryKind,
    LedgerEntry,
    Posting,
    members_with_due_points,
    post,
    release_due,
)
from server.rewards.members import Member, new_referral_code

__all__ = [
    "Adjusted",
    "LedgerPage",
    "Recorded",
    "Services",
    "account",
    "adjust_points",
    "leaderboard",
    "ledger_page",
    "member",
    "members_by_ids",
    "record_purchase",
    "release_pending",
    "upsert_member",
    "viewer",
]

_MAX_OFFSET = 100_000


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Services:
    """What the use cases need from the running process; tests build their own."""

    events: Events
    boards: Leaderboards | None
    purchase_pending_days: int = 14
    points_per_currency_unit: Decimal = Decimal(1)
    max_page_size: int = 100
    clock: Callable[[], datetime] = field(default=utcnow)


@dataclass(frozen=True, slots=True)
class Recorded:
    activity: Activity
    points_awarded: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Adjusted:
    entry: LedgerEntry
    member: Member
    duplicate: bool


@dataclass(frozen=True, slots=True)
class LedgerPage:
    entries: list[LedgerEntry]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return ledger_cursor(self.entries[-1]) if self.entries else None


def _require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise PermissionDenied(f"This needs the {allowed} role.")


def _scoped_key(operation: str, principal: Principal, key: str) -> str:
    scope = f"m{principal.member_id}" if principal.role is Role.SHOPPER else "staff"
    return f"{operation}:{scope}:{v.idempotency_key(key)}"


def _same_request(stored_hash: str, request_hash: str) -> None:
    if stored_hash != request_hash:
        raise Conflict("This idempotency key was already used with different input.")


# Members


async def upsert_member(
    svc: Services,
    principal: Principal,
    *,
    external_id: str,
    display_name: str,
    email: str | None = None,
    community: str | None = None,
) -> Member:
    """Create a member, or update the profile of the one with this external id."""
    _require(principal, Role.SERVICE, Role.ADMIN)
    external_id = v.clean_text("externalId", external_id, max_length=128)
    name = v.clean_text("displayName", display_name, max_length=80)
    address = v.optional_email(email)
    group = v.optional_slug("community", community)
    for _ in range(3):
        existing = await Member.get_or_none(external_id=external_id)
        if existing is not None:
            await Member.filter(id=existing.id).update(
                display_name=name, email=address, community=group
            )
            await existing.refresh_from_db()
            return existing
        try:
            return await Member.create(
                external_id=external_id,
                referral_code=new_referral_code(),
                display_name=name,
                email=address,
                community=group,
            )
        except IntegrityError:
            continue  # created concurrently (or a referral code collided): look again
    raise Conflict("The member is being changed concurrently; try again.")


async def member(member_id: str) -> Member | None:
    """A public profile by id; None when there is none."""
    pk = v.parse_id("id", member_id)
    return None if pk is None else await Member.get_or_none(id=pk)


async def members_by_ids(ids: Iterable[int]) -> dict[int, Member]:
    """Members by primary key in one query (for DataLoaders)."""
    wanted = list(set(ids))
    return {m.id: m for m in await Member.filter(id__in=wanted)} if wanted else {}


async def _fresh(svc: Services, found: Member) -> Member:
    """The member with due pending points released, so reads are right without a job."""
    now = svc.clock()
    if found.next_release_at is not None and found.next_release_at <= now:
        if await release_due(found.id, now):
            await svc.events.points_committed()
        await found.refresh_from_db()
    return found


async def viewer(svc: Services, principal: Principal) -> Member | None:
    """The calling shopper's account; None for anyone else."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        return None
    found = await Member.get_or_none(id=principal.member_id)
    return None if found is None else await _fresh(svc, found)


async def account(svc: Services, principal: Principal, member_id: str) -> Member | None:
    """Any member's account for staff, a shopper's own; None otherwise."""
    pk = v.parse_id("memberId", member_id)
    if pk is None:
        return None
    if not principal.is_staff and not (
        principal.role is Role.SHOPPER and principal.member_id == pk
    ):
        return None
    found = await Member.get_or_none(id=pk)
    return None if found is None else await _fresh(svc, found)


# Ledger


def ledger_cursor(entry: LedgerEntry) -> str:
    return base64.urlsafe_b64encode(f"ledger:{entry.id}".encode()).decode()


def _cursor_id(after: str) -> int:
    try:
        kind, _, raw = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        entry_id = v.parse_id("after", raw) if kind == "ledger" else None
        if entry_id is not None:
            return entry_id
    except ValueError:
        pass
    raise Invalid("after", "after is not a cursor from this list.")


def page_size(svc: Services, field: str, first: int) -> int:
    if not 1 <= first <= svc.max_page_size:
        raise Invalid(field, f"{field} must be between 1 and {svc.max_page_size}.")
    return first


async def ledger_page(
    svc: Services, member_id: int, *, first: int, after: str | None
) -> LedgerPage:
    """A member's statement, newest first. Internal moves (pending to spendable) are left out."""
    size = page_size(svc, "first", first)
    query = LedgerEntry.filter(member_id=member_id).exclude(amount=0)
    if after is not None:
        query = query.filter(id__lt=_cursor_id(after))
    rows = await query.order_by("-id").limit(size + 1)
    return LedgerPage(entries=rows[:size], has_next_page=len(rows) > size)


async def adjust_points(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    member_id: str,
    amount: int,
    reason: str,
) -> Adjusted:
    """ADMIN: a manual credit or debit, counted as earned (a correction of earning)."""
    _require(principal, Role.ADMIN)
    key = _scoped_key("adjust", principal, idempotency_key)
    amount = v.points_amount("amount", amount, allow_negative=True)
    reason = v.clean_text("reason", reason, max_length=500)
    pk = v.parse_id("memberId", member_id)
    target = None if pk is None else await Member.get_or_none(id=pk)
    if target is None:
        raise NotFound(f"No member with id {member_id!r}.")
    request_hash = v.fingerprint(member=target.id, amount=amount, reason=reason)
    replay = await _adjust_replay(key, request_hash)
    if replay is not None:
        return replay
    now = svc.clock()
    try:
        async with in_transaction():
            entry = await post(
                Posting(
                    member_id=target.id,
                    kind=EntryKind.ADJUST,
                    amount=amount,
                    lifetime_delta=amount,
                    reason=reason,
                    actor=principal.actor,
                    idempotency_key=key,
                    request_hash=request_hash,
                ),
                community=target.community,
                now=now,
            )
    except IntegrityError:
        replay = await _adjust_replay(key, request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.points_committed()
    await target.refresh_from_db()
    return Adjusted(entry=entry, member=target, duplicate=False)


async def _adjust_replay(key: str, request_hash: str) -> Adjusted | None:
    entry = await LedgerEntry.get_or_none(idempotency_key=key)
    if entry is None:
        return None
    _same_request(entry.request_hash, request_hash)
    return Adjusted(entry=entry, member=await Member.get(id=entry.member_id), duplicate=True)


# Purchases


def purchase_points(svc: Services, amount_cents: int) -> int:
    """Points for an order: POINTS_PER_CURRENCY_UNIT per 1.00, rounded down."""
    points = (Decimal(amount_cents) * svc.points_per_currency_unit / 100).to_integral_value(
        rounding=ROUND_FLOOR
    )
    return int(points)


async def record_purchase(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    member_external_id: str,
    order_id: str,
    amount_cents: int,
    occurred_at: datetime | None = None,
) -> Recorded:
    """SERVICE: an order was paid. Its points stay pending through the return window."""
    _require(principal, Role.SERVICE)
    key = _scoped_key("purchase", principal, idempotency_key)
    order_id = v.clean_text("orderId", order_id, max_length=128)
    if amount_cents <= 0:
        raise Invalid("amountCents", "amountCents must be positive.")
    now = svc.clock()
    occurred = v.when("occurredAt", occurred_at, now=now)
    external_id = v.clean_text("memberExternalId", member_external_id, max_length=128)
    buyer = await Member.get_or_none(external_id=external_id)
    if buyer is None:
        raise NotFound(f"No member with external id {external_id!r}.")
    # A defaulted occurredAt ("now") is not part of the input: a retry must match.
    request_hash = v.fingerprint(
        member=buyer.id,
        order=order_id,
        cents=amount_cents,
        at=occurred.isoformat() if occurred_at is not None else None,
    )
    replay = await _activity_replay(key, request_hash)
    if replay is not None:
        return replay

    points = purchase_points(svc, amount_cents)
    available_at = occurred + timedelta(days=svc.purchase_pending_days)
    pending = points if available_at > now else 0
    try:
        async with in_transaction():
            activity = await Activity.create(
                member_id=buyer.id,
                kind=ActivityKind.PURCHASE,
                status=ActivityStatus.PENDING if pending else ActivityStatus.APPROVED,
                points_awarded=points,
                points=points - pending,
                idempotency_key=key,
                request_hash=request_hash,
                dedupe_key=f"purchase:{order_id}",
                payload={"orderId": order_id, "amountCents": amount_cents},
                occurred_at=occurred,
            )
            if points:
                await post(
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
                        occurred_at=occurred,
                    ),
                    community=buyer.community,
                    now=now,
                )
    except IntegrityError:
        replay = await _activity_replay(key, request_hash)
        if replay is not None:
            return replay
        raise Conflict(
            f"Order {order_id} was already recorded with another idempotency key."
        ) from None
    await svc.events.points_committed()
    return Recorded(activity=activity, points_awarded=points, duplicate=False)


async def _activity_replay(key: str, request_hash: str) -> Recorded | None:
    activity = await Activity.get_or_none(idempotency_key=key)
    if activity is None:
        return None
    _same_request(activity.request_hash, request_hash)
    return Recorded(activity=activity, points_awarded=activity.points_awarded, duplicate=True)


async def release_pending(svc: Services) -> tuple[int, int]:
    """Release every due pending credit; return (members touched, points released)."""
    now = svc.clock()
    members, points = 0, 0
    for member_id in await members_with_due_points(now):
        released = await release_due(member_id, now)
        members += 1 if released else 0
        points += released
    if points:
        await svc.events.points_committed()
    return members, points


# Leaderboards


async def leaderboard(svc: Services, *, first: int, offset: int) -> BoardPage:
    """A page of the global all-time board."""
    size = page_size(svc, "first", first)
    if not 0 <= offset <= _MAX_OFFSET:
        raise Invalid("offset", f"offset must be between 0 and {_MAX_OFFSET}.")
    if svc.boards is None:
        return BoardPage(total_members=0, rows=[])
    return await svc.boards.page(first=size, offset=offset)
