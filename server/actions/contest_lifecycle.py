"""Contests run by moderators: create, publish, change, cancel, disqualify, reinstate.

A running contest's board is recomputed from SQL and swapped in whole when a
disqualification changes who counts; finalizing lives in ``contest_results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from leaderboards import Board
from leaderboards.boards import CONTEST_GRACE
from server.actions.common import find_by_id, require
from server.actions.contests import CONTEST_STAFF, contest_by_id, contest_status
from server.actions.services import Services
from server.auth import Principal
from server.rewards import validation as v
from server.rewards.activities import ActivityKind
from server.rewards.contests import (
    Contest,
    ContestStatus,
    Disqualification,
    RankPrize,
    contest_scores,
    validate_prizes,
    validate_window,
)
from server.rewards.errors import Conflict, Invalid
from server.rewards.events import EventType, record
from server.rewards.members import Member
from server.rewards.text import msg
from server.rewards.tiers import Tier

__all__ = [
    "ContestFields",
    "cancel_contest",
    "create_contest",
    "disqualified",
    "disqualify",
    "publish_contest",
    "refresh_board",
    "reinstate",
    "update_contest",
]


@dataclass(frozen=True, slots=True)
class ContestFields:
    """What a moderator sets on a contest; ``None`` in an update means "unchanged"."""

    name: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    activity_kinds: list[ActivityKind] | None = None
    prizes: list[RankPrize] | None = None
    community: str | None = None
    min_tier_id: str | None = None


async def _columns(svc: Services, fields: ContestFields, contest: Contest | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fields.name is not None or contest is None:
        out["name"] = v.clean_text("name", fields.name or "", max_length=120, display=True)
    if fields.description is not None:
        out["description"] = v.optional_text("description", fields.description, max_length=2000)
    starts = fields.starts_at or (contest.starts_at if contest else None)
    ends = fields.ends_at or (contest.ends_at if contest else None)
    if starts is None or ends is None:
        raise Invalid("startsAt", msg("startsAt and endsAt are required."))
    if fields.starts_at is not None or fields.ends_at is not None or contest is None:
        validate_window(starts, ends, svc.clock())
        out["starts_at"], out["ends_at"] = starts, ends
    if fields.activity_kinds is not None or contest is None:
        kinds = sorted({k.value for k in fields.activity_kinds or []})
        if not kinds:
            raise Invalid("activityKinds", msg("Name at least one kind of activity that counts."))
        out["activity_kinds"] = kinds
    if fields.prizes is not None:
        out["prizes"] = [p.as_json() for p in validate_prizes(fields.prizes)]
    if fields.community is not None:
        out["community"] = v.optional_slug("community", fields.community)
    if fields.min_tier_id is not None:
        pk = v.parse_id("minTierId", fields.min_tier_id)
        if pk is None or not await Tier.exists(id=pk):
            raise Invalid("minTierId", msg("No tier with id {id!r}.", id=fields.min_tier_id))
        out["min_tier_id"] = pk
    return out


async def create_contest(svc: Services, principal: Principal, fields: ContestFields) -> Contest:
    """MODERATOR: a contest in DRAFT; nobody sees it run until it is published."""
    require(principal, *CONTEST_STAFF)
    columns = await _columns(svc, fields, None)
    return await Contest.create(created_by=principal.actor, **columns)


async def update_contest(
    svc: Services, principal: Principal, contest_id: str, fields: ContestFields
) -> Contest:
    """MODERATOR: change a contest before it starts; once it runs, its description only."""
    require(principal, *CONTEST_STAFF)
    contest = await contest_by_id(contest_id)
    status = contest_status(svc, contest)
    only_text = fields == ContestFields(description=fields.description)
    if status in (ContestStatus.FINALIZED, ContestStatus.CANCELLED):
        raise Conflict(
            msg("This contest is finalized.")
            if status is ContestStatus.FINALIZED
            else msg("This contest is cancelled.")
        )
    if status not in (ContestStatus.DRAFT, ContestStatus.SCHEDULED) and not only_text:
        raise Conflict(msg("A contest that has started can only have its description changed."))
    columns = await _columns(svc, fields, contest)
    await Contest.filter(id=contest.id).update(**columns)
    await contest.refresh_from_db()
    return contest


async def publish_contest(svc: Services, principal: Principal, contest_id: str) -> Contest:
    """MODERATOR: DRAFT -> SCHEDULED (or RUNNING, by the clock). Repeating it is harmless."""
    require(principal, *CONTEST_STAFF)
    contest = await contest_by_id(contest_id)
    if contest_status(svc, contest) is ContestStatus.CANCELLED:
        raise Conflict(msg("This contest was cancelled."))
    async with in_transaction():
        won = await Contest.filter(id=contest.id, published_at__isnull=True).update(
            published_at=svc.clock()
        )
        if won == 1:
            await record(EventType.CONTEST_PUBLISHED, None, {"contest_id": contest.id})
    await contest.refresh_from_db()
    return contest


async def cancel_contest(
    svc: Services, principal: Principal, contest_id: str, reason: str
) -> Contest:
    """MODERATOR: cancel any time before it is finalized; nothing is awarded."""
    require(principal, *CONTEST_STAFF)
    why = v.clean_text("reason", reason, max_length=500)
    contest = await contest_by_id(contest_id)
    won = await Contest.filter(
        id=contest.id, finalized_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=svc.clock(), cancel_reason=why)
    await contest.refresh_from_db()
    if won != 1 and contest.finalized_at is not None:
        raise Conflict(msg("This contest is finalized; it cannot be cancelled."))
    return contest


async def refresh_board(svc: Services, contest: Contest) -> None:
    """The contest's board from SQL again (after disqualifying, reinstating, or an
    experiment holding members out of it). The pages kept in memory (``board_cache``) go
    with the old board: the live pages told of the swap, and the moderator's own next
    read, see the new one at once."""
    if svc.boards is not None:
        svc.board_cache.clear()
        await svc.boards.replace_board(
            Board(contest_id=contest.id),
            await contest_scores(contest),
            expires_at=contest.ends_at + CONTEST_GRACE,
        )
        svc.board_cache.clear()


async def _member(member_id: str) -> Member:
    return await find_by_id(Member, "memberId", member_id, "member")


async def disqualify(
    svc: Services, principal: Principal, contest_id: str, member_id: str, reason: str
) -> Contest:
    """MODERATOR: off the board and out of the prizes; the reason is kept for staff."""
    require(principal, *CONTEST_STAFF)
    why = v.clean_text("reason", reason, max_length=500)
    contest = await contest_by_id(contest_id)
    member = await _member(member_id)
    if contest.finalized_at is not None:
        raise Conflict(msg("This contest is finalized."))
    found = await Disqualification.get_or_none(contest_id=contest.id, member_id=member.id)
    if found is None:
        await Disqualification.create(
            contest_id=contest.id,
            member_id=member.id,
            reason=why,
            decided_by=principal.actor,
            decided_at=svc.clock(),
        )
    else:
        await Disqualification.filter(id=found.id).update(
            active=True, reason=why, decided_by=principal.actor, decided_at=svc.clock()
        )
    await refresh_board(svc, contest)
    return contest


async def reinstate(
    svc: Services, principal: Principal, contest_id: str, member_id: str
) -> Contest:
    """MODERATOR: undo a disqualification; the member's score comes back from SQL."""
    require(principal, *CONTEST_STAFF)
    contest = await contest_by_id(contest_id)
    member = await _member(member_id)
    if contest.finalized_at is not None:
        raise Conflict(msg("This contest is finalized."))
    await Disqualification.filter(contest_id=contest.id, member_id=member.id).update(active=False)
    await refresh_board(svc, contest)
    return contest


async def disqualified(principal: Principal, contest: Contest) -> list[Disqualification]:
    """MODERATOR: who is off the contest's board now (with why), newest decision first,
    so a console can offer to reinstate them; their reasons are for staff only."""
    require(principal, *CONTEST_STAFF)
    return (
        await Disqualification.filter(contest_id=contest.id, active=True)
        .order_by("-decided_at", "-id")
        .all()
    )
