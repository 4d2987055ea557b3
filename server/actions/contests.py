"""Contests run by moderators: create, publish, change, cancel, disqualify, finalize.

Finalizing freezes the standings from SQL in one transaction that marks the
contest finalized with a conditional UPDATE: a second or concurrent call finds
it finalized and gets the same results back, having awarded nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from badges import Metric, grant
from leaderboards import Board
from leaderboards.boards import CONTEST_GRACE
from server.actions.common import Services, award_badges, find_by_id, require
from server.actions.tiers import tier_standing
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import ActivityKind
from server.rewards.contests import (
    Contest,
    ContestStatus,
    Disqualification,
    Placement,
    RankPrize,
    competition_ranks,
    contest_scores,
    status_of,
    validate_prizes,
    validate_window,
)
from server.rewards.errors import Conflict, Invalid
from server.rewards.ledger import EntryKind, Posting, lock_member, post
from server.rewards.members import Member
from server.rewards.tiers import Tier

__all__ = [
    "ContestFields",
    "Finalized",
    "cancel_contest",
    "contest_by_id",
    "contest_status",
    "contests_list",
    "create_contest",
    "disqualify",
    "finalize_contest",
    "placements_of_contest",
    "placements_of_member",
    "publish_contest",
    "reinstate",
    "update_contest",
]

_STAFF = (Role.MODERATOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class ContestFields:
    name: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    activity_kinds: list[ActivityKind] | None = None
    prizes: list[RankPrize] | None = None
    community: str | None = None
    min_tier_id: str | None = None


def contest_status(svc: Services, contest: Contest) -> ContestStatus:
    return status_of(contest, svc.clock())


async def _columns(svc: Services, fields: ContestFields, contest: Contest | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fields.name is not None or contest is None:
        out["name"] = v.clean_text("name", fields.name or "", max_length=120)
    if fields.description is not None:
        if len(fields.description) > 2000:
            raise Invalid("description", "description must be at most 2000 characters.")
        out["description"] = fields.description.strip()
    starts = fields.starts_at or (contest.starts_at if contest else None)
    ends = fields.ends_at or (contest.ends_at if contest else None)
    if starts is None or ends is None:
        raise Invalid("startsAt", "startsAt and endsAt are required.")
    if fields.starts_at is not None or fields.ends_at is not None or contest is None:
        validate_window(starts, ends, svc.clock())
        out["starts_at"], out["ends_at"] = starts, ends
    if fields.activity_kinds is not None or contest is None:
        kinds = sorted({k.value for k in fields.activity_kinds or []})
        if not kinds:
            raise Invalid("activityKinds", "Name at least one kind of activity that counts.")
        out["activity_kinds"] = kinds
    if fields.prizes is not None:
        out["prizes"] = [p.as_json() for p in validate_prizes(fields.prizes)]
    if fields.community is not None:
        out["community"] = v.optional_slug("community", fields.community)
    if fields.min_tier_id is not None:
        pk = v.parse_id("minTierId", fields.min_tier_id)
        if pk is None or not await Tier.exists(id=pk):
            raise Invalid("minTierId", f"No tier with id {fields.min_tier_id!r}.")
        out["min_tier_id"] = pk
    return out


async def create_contest(svc: Services, principal: Principal, fields: ContestFields) -> Contest:
    """MODERATOR: a contest in DRAFT; nobody sees it run until it is published."""
    require(principal, *_STAFF)
    columns = await _columns(svc, fields, None)
    return await Contest.create(created_by=principal.actor, **columns)


async def contest_by_id(contest_id: str) -> Contest:
    return await find_by_id(Contest, "id", contest_id, "contest")


async def update_contest(
    svc: Services, principal: Principal, contest_id: str, fields: ContestFields
) -> Contest:
    """MODERATOR: change a contest before it starts; once it runs, its description only."""
    require(principal, *_STAFF)
    contest = await contest_by_id(contest_id)
    status = contest_status(svc, contest)
    only_text = fields == ContestFields(description=fields.description)
    if status in (ContestStatus.FINALIZED, ContestStatus.CANCELLED):
        raise Conflict(f"This contest is {status.value.lower()}.")
    if status not in (ContestStatus.DRAFT, ContestStatus.SCHEDULED) and not only_text:
        raise Conflict("A contest that has started can only have its description changed.")
    columns = await _columns(svc, fields, contest)
    await Contest.filter(id=contest.id).update(**columns)
    await contest.refresh_from_db()
    return contest


async def publish_contest(svc: Services, principal: Principal, contest_id: str) -> Contest:
    """MODERATOR: DRAFT -> SCHEDULED (or RUNNING, by the clock). Repeating it is harmless."""
    require(principal, *_STAFF)
    contest = await contest_by_id(contest_id)
    if contest_status(svc, contest) is ContestStatus.CANCELLED:
        raise Conflict("This contest was cancelled.")
    await Contest.filter(id=contest.id, published_at__isnull=True).update(published_at=svc.clock())
    await contest.refresh_from_db()
    return contest


async def cancel_contest(
    svc: Services, principal: Principal, contest_id: str, reason: str
) -> Contest:
    """MODERATOR: cancel any time before it is finalized; nothing is awarded."""
    require(principal, *_STAFF)
    why = v.clean_text("reason", reason, max_length=500)
    contest = await contest_by_id(contest_id)
    won = await Contest.filter(
        id=contest.id, finalized_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=svc.clock(), cancel_reason=why)
    await contest.refresh_from_db()
    if won != 1 and contest.finalized_at is not None:
        raise Conflict("This contest is finalized; it cannot be cancelled.")
    return contest


async def _refresh_board(svc: Services, contest: Contest) -> None:
    if svc.boards is not None:
        await svc.boards.replace_board(
            Board(contest_id=contest.id),
            await contest_scores(contest),
            expires_at=contest.ends_at + CONTEST_GRACE,
        )


async def _member(member_id: str) -> Member:
    return await find_by_id(Member, "memberId", member_id, "member")


async def disqualify(
    svc: Services, principal: Principal, contest_id: str, member_id: str, reason: str
) -> Contest:
    """MODERATOR: off the board and out of the prizes; the reason is kept for staff."""
    require(principal, *_STAFF)
    why = v.clean_text("reason", reason, max_length=500)
    contest = await contest_by_id(contest_id)
    member = await _member(member_id)
    if contest.finalized_at is not None:
        raise Conflict("This contest is finalized.")
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
    await _refresh_board(svc, contest)
    return contest


async def reinstate(
    svc: Services, principal: Principal, contest_id: str, member_id: str
) -> Contest:
    """MODERATOR: undo a disqualification; the member's score comes back from SQL."""
    require(principal, *_STAFF)
    contest = await contest_by_id(contest_id)
    member = await _member(member_id)
    if contest.finalized_at is not None:
        raise Conflict("This contest is finalized.")
    await Disqualification.filter(contest_id=contest.id, member_id=member.id).update(active=False)
    await _refresh_board(svc, contest)
    return contest


@dataclass(slots=True)
class Finalized:
    contest: Contest
    placements: list[Placement] = field(default_factory=list)
    duplicate: bool = False


async def finalize_contest(svc: Services, principal: Principal, contest_id: str) -> Finalized:
    """MODERATOR: after the end, freeze the standings and award the prizes, once."""
    require(principal, *_STAFF)
    contest = await contest_by_id(contest_id)
    status = contest_status(svc, contest)
    if status is ContestStatus.FINALIZED:
        return Finalized(contest, await placements_of_contest(contest.id), duplicate=True)
    if status is not ContestStatus.ENDED:
        raise Conflict(f"Only an ended contest can be finalized; this one is {status.value}.")
    now = svc.clock()
    eligible = await _eligible(svc, contest, await contest_scores(contest))
    prizes = [RankPrize.of(p) for p in contest.prizes]
    async with in_transaction():
        won = await Contest.filter(id=contest.id, finalized_at__isnull=True).update(
            finalized_at=now
        )
        if won != 1:  # finalized concurrently: theirs stands
            contest = await contest_by_id(contest_id)
            return Finalized(contest, await placements_of_contest(contest.id), duplicate=True)
        for rank, member_id, score in competition_ranks(eligible):
            prize = next((p for p in prizes if p.from_rank <= rank <= p.to_rank), None)
            await Placement.create(
                contest_id=contest.id,
                member_id=member_id,
                rank=rank,
                score=score,
                points_awarded=prize.points if prize else 0,
                badge_slug=prize.badge_slug if prize else None,
            )
            if prize is not None and prize.points > 0:
                member = await lock_member(member_id)
                await post(
                    Posting(
                        member_id=member_id,
                        kind=EntryKind.EARN,
                        amount=prize.points,
                        lifetime_delta=prize.points,
                        reason=f"{contest.name}: rank {rank}",
                        actor=principal.actor,
                        idempotency_key=f"contest:{contest.id}:member:{member_id}",
                        request_hash="",
                        expires_at=now + svc.keep_for if svc.keep_for else None,
                    ),
                    community=member.community,
                    now=now,
                )
    await contest.refresh_from_db()
    placements = await placements_of_contest(contest.id)
    await svc.events.points_committed()
    for placement in placements:
        if placement.badge_slug:
            await grant(placement.member_id, placement.badge_slug, now=now, keep_for=svc.keep_for)
        if placement.rank == 1 or placement.badge_slug or placement.points_awarded:
            await award_badges(svc, placement.member_id, metrics=[Metric.CONTESTS_WON])
    return Finalized(contest, placements)


async def _eligible(svc: Services, contest: Contest, scores: dict[int, int]) -> dict[int, int]:
    """Members of the minimum tier (when one is set) at finalization."""
    if contest.min_tier_id is None:
        return scores
    needed = await Tier.get_or_none(id=contest.min_tier_id)
    if needed is None:
        return scores
    out = {}
    for member_id, score in scores.items():
        held = (await tier_standing(svc, member_id)).tier
        if held is not None and held.threshold >= needed.threshold:
            out[member_id] = score
    return out


async def placements_of_contest(contest_id: int) -> list[Placement]:
    return await Placement.filter(contest_id=contest_id).order_by("rank", "member_id")


async def placements_of_member(member_id: int) -> list[Placement]:
    return await Placement.filter(member_id=member_id).prefetch_related("contest").order_by("-id")


async def contests_list(
    svc: Services, principal: Principal, status: ContestStatus | None
) -> list[Contest]:
    """Contests, newest first; drafts and cancelled ones only for staff."""
    found = await Contest.all().order_by("-starts_at", "-id")
    now = svc.clock()
    visible = [
        c
        for c in found
        if principal.role in _STAFF
        or status_of(c, now) not in (ContestStatus.DRAFT, ContestStatus.CANCELLED)
    ]
    return [c for c in visible if status is None or status_of(c, now) is status]
