"""Points: statements, manual adjustments, the release and expiry jobs, the board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from badges import Metric
from server.actions.common import (
    Keyed,
    decode_cursor,
    encode_cursor,
    find_by_id,
    page_size,
    require,
    same_request,
    scoped_key,
    stored_under,
)
from server.actions.effects import award_badges
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import ActivityKind
from server.rewards.expiry import expire_due, members_with_expired_points, open_lots
from server.rewards.ledger import EntryKind, LedgerEntry
from server.rewards.members import Member
from server.rewards.pending import members_with_due_points, release_due
from server.rewards.posting import Posting, lock_member, post
from server.rewards.referrals import settle_referrals

__all__ = [
    "Adjusted",
    "Expiring",
    "LedgerPage",
    "adjust_points",
    "expire_points",
    "expiring_points",
    "ledger_cursor",
    "ledger_page",
    "release_pending",
]

EXPIRY_NOTICE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Adjusted:
    """A manual adjustment's ledger entry and the member after it (or the first result)."""

    entry: LedgerEntry
    member: Member
    duplicate: bool


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """A page of a member's statement and whether more follow."""

    entries: list[LedgerEntry]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return ledger_cursor(self.entries[-1]) if self.entries else None


@dataclass(frozen=True, slots=True)
class Expiring:
    """Points that expire at one moment unless spent first."""

    points: int
    expires_at: datetime


def ledger_cursor(entry: LedgerEntry) -> str:
    """The cursor that continues a statement page after ``entry``."""
    return encode_cursor("ledger", entry.id)


async def ledger_page(
    svc: Services, member_id: int, *, first: int, after: str | None
) -> LedgerPage:
    """A member's statement, newest first. Internal moves (pending to spendable) are left out."""
    size = page_size(svc, "first", first)
    query = LedgerEntry.filter(member_id=member_id).exclude(amount=0)
    if after is not None:
        query = query.filter(id__lt=decode_cursor("ledger", after))
    rows = await query.order_by("-id").limit(size + 1)
    return LedgerPage(entries=rows[:size], has_next_page=len(rows) > size)


async def expiring_points(svc: Services, member_id: int) -> list[Expiring]:
    """Spendable points that expire within the next 30 days, soonest first."""
    now = svc.clock()
    return [
        Expiring(points=lot.points, expires_at=lot.expires_at)
        for lot in await open_lots(member_id)
        if lot.expires_at is not None and now < lot.expires_at <= now + EXPIRY_NOTICE
    ]


async def adjust_points(
    svc: Services,
    principal: Principal,
    *,
    idempotency_key: str,
    member_id: str,
    amount: int,
    reason: str,
    qualifying: bool = False,
) -> Adjusted:
    """ADMIN: a manual credit or debit, counted as earned (a correction of earning); it
    counts toward tiers only when flagged ``qualifying``."""
    require(principal, Role.ADMIN)
    keyed = await scoped_key("adjust", principal, idempotency_key, LedgerEntry)
    key = keyed.key
    amount = v.points_amount("amount", amount, allow_negative=True, maximum=svc.max_points_per_call)
    reason = v.clean_text("reason", reason, max_length=500)
    target = await find_by_id(Member, "memberId", member_id, "member")
    request_hash = v.fingerprint(
        member=target.id,
        amount=amount,
        reason=reason,
        **({"qualifying": True} if qualifying else {}),
    )
    replay = await _adjust_replay(keyed, request_hash)
    if replay is not None:
        return replay
    now = svc.clock()
    if amount < 0:
        await expire_due(target.id, now)  # a debit never spends points already expired
    try:
        async with in_transaction():
            await lock_member(target.id)
            entry = await post(
                Posting(
                    member_id=target.id,
                    kind=EntryKind.ADJUST,
                    amount=amount,
                    lifetime_delta=amount,
                    qualifying=qualifying,
                    reason=reason,
                    actor=principal.actor,
                    idempotency_key=key,
                    request_hash=request_hash,
                    expires_at=now + svc.keep_for if svc.keep_for and amount > 0 else None,
                    field="amount",
                ),
                community=target.community,
                now=now,
            )
    except IntegrityError:
        replay = await _adjust_replay(Keyed(key), request_hash)
        if replay is None:
            raise
        return replay
    await svc.events.committed()
    # An adjustment counts toward tiers only when flagged: otherwise the tier stands.
    await award_badges(
        svc, target.id, metrics=[Metric.LIFETIME_POINTS], tier_unchanged=not qualifying
    )
    await target.refresh_from_db()
    return Adjusted(entry=entry, member=target, duplicate=False)


async def _adjust_replay(keyed: Keyed[LedgerEntry], request_hash: str) -> Adjusted | None:
    entry = await stored_under(LedgerEntry, keyed)
    if entry is None:
        return None
    same_request(entry.request_hash, request_hash)
    return Adjusted(entry=entry, member=await Member.get(id=entry.member_id), duplicate=True)


async def release_pending(svc: Services) -> tuple[int, int]:
    """Release every due pending credit and pay due referrals; return (members, points)."""
    now = svc.clock()
    members, points = 0, 0
    for member_id in await members_with_due_points(now):
        released = await release_due(member_id, now, keep_for=svc.keep_for)
        members += 1 if released else 0
        points += released
        if released:  # a share that waited is counted from now on
            await award_badges(svc, member_id, [ActivityKind.SOCIAL_SHARE])
    paid: set[int] = set()
    points += await settle_referrals(
        now=now, window=svc.return_window, keep_for=svc.keep_for, paid_to=paid
    )
    if points:
        await svc.events.committed()
    for referrer in sorted(paid):
        await award_badges(svc, referrer, [ActivityKind.REFERRAL])
    return members, points


async def expire_points(svc: Services) -> tuple[int, int]:
    """Expire every member's points past their date; return (members, points)."""
    now = svc.clock()
    members, points = 0, 0
    for member_id in await members_with_expired_points(now):
        expired = await expire_due(member_id, now)
        members += 1 if expired else 0
        points += expired
    return members, points
