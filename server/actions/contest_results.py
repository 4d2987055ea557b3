"""Contest results: finalizing, the frozen placements, and a contest's board.

Finalizing freezes the standings from SQL in one transaction that marks the
contest finalized with a conditional UPDATE: a second or concurrent call finds
it finalized and gets the same results back, having awarded nothing. From then
on the contest's board is read from those placements, not from Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from badges import Metric, grant
from leaderboards import Board, BoardPage, BoardRow
from server.actions.boards import RankedPage, board_offset, leaderboard, with_members
from server.actions.common import page_size, require
from server.actions.contests import CONTEST_STAFF, contest_by_id, contest_status
from server.actions.effects import award_badges
from server.actions.services import Services
from server.actions.tiers import tier_standings
from server.auth import Principal
from server.rewards.contests import (
    Contest,
    ContestStatus,
    Placement,
    RankPrize,
    competition_ranks,
    contest_scores,
)
from server.rewards.errors import Conflict
from server.rewards.events import EventType, record
from server.rewards.ledger import EntryKind
from server.rewards.posting import Posting, lock_member, post
from server.rewards.text import msg
from server.rewards.tiers import Tier

__all__ = [
    "Finalized",
    "contest_board",
    "finalize_contest",
    "placements_of_contest",
    "placements_of_contests",
    "placements_of_member",
    "placements_of_members",
]

_NOT_ENDED = {
    ContestStatus.DRAFT: msg("Only an ended contest can be finalized; this one is DRAFT."),
    ContestStatus.SCHEDULED: msg("Only an ended contest can be finalized; this one is SCHEDULED."),
    ContestStatus.RUNNING: msg("Only an ended contest can be finalized; this one is RUNNING."),
    ContestStatus.CANCELLED: msg("Only an ended contest can be finalized; this one is CANCELLED."),
}


@dataclass(slots=True)
class Finalized:
    """A finalized contest and its placements; ``duplicate`` when it was finalized before."""

    contest: Contest
    placements: list[Placement] = field(default_factory=list)
    duplicate: bool = False


async def finalize_contest(svc: Services, principal: Principal, contest_id: str) -> Finalized:
    """MODERATOR: after the end, freeze the standings and award the prizes, once."""
    require(principal, *CONTEST_STAFF)
    contest = await contest_by_id(contest_id)
    status = contest_status(svc, contest)
    if status is ContestStatus.FINALIZED:
        return Finalized(contest, await placements_of_contest(contest.id), duplicate=True)
    if status is not ContestStatus.ENDED:
        raise Conflict(_NOT_ENDED[status])
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
        # Who gets CONTESTS_WON below, in the order of the placements (rank, member id).
        winners: list[int] = []
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
            if rank == 1 or (prize is not None and (prize.badge_slug or prize.points)):
                winners.append(member_id)
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
        await record(
            EventType.CONTEST_FINALIZED, None, {"contest_id": contest.id, "members": winners}
        )
    await contest.refresh_from_db()
    placements = await placements_of_contest(contest.id)
    await svc.events.committed()
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
    standings = await tier_standings(svc, list(scores))
    return {
        member_id: score
        for member_id, score in scores.items()
        if (held := standings[member_id].tier) is not None and held.threshold >= needed.threshold
    }


async def placements_of_contest(contest_id: int) -> list[Placement]:
    """A finalized contest's frozen standings, best first; empty before it is finalized."""
    return (await placements_of_contests([contest_id]))[contest_id]


async def placements_of_contests(contest_ids: Iterable[int]) -> dict[int, list[Placement]]:
    """Many contests' frozen standings, best first, in one query (for DataLoaders: a list
    of contests with their results); every id asked for is in the answer."""
    wanted = list(dict.fromkeys(contest_ids))
    out: dict[int, list[Placement]] = {pk: [] for pk in wanted}
    if wanted:
        query = Placement.filter(contest_id__in=wanted).order_by("rank", "member_id")
        for placement in await query:
            out[placement.contest_id].append(placement)
    return out


async def placements_of_member(member_id: int) -> list[Placement]:
    """A member's places in finalized contests, newest first, with their contests."""
    return await Placement.filter(member_id=member_id).prefetch_related("contest").order_by("-id")


async def placements_of_members(member_ids: Iterable[int]) -> dict[int, list[Placement]]:
    """Many members' places, newest first, in one query (for DataLoaders; the contests
    come from ``contests_by_ids``); every id asked for is in the answer."""
    wanted = list(dict.fromkeys(member_ids))
    out: dict[int, list[Placement]] = {pk: [] for pk in wanted}
    if wanted:
        for placement in await Placement.filter(member_id__in=wanted).order_by("-id"):
            out[placement.member_id].append(placement)
    return out


async def contest_board(svc: Services, contest: Contest, *, first: int, offset: int) -> RankedPage:
    """A page of the contest's board: live from Redis while it is not finalized, then the
    frozen placements, paged in SQL."""
    if contest.finalized_at is None:
        return await leaderboard(svc, Board(contest_id=contest.id), first=first, offset=offset)
    size = page_size(svc, "first", first)
    placed = Placement.filter(contest_id=contest.id)
    total = await placed.count()
    rows = await placed.order_by("rank", "member_id").offset(board_offset(offset)).limit(size)
    page = BoardPage(
        total_members=total,
        rows=[BoardRow(rank=p.rank, score=p.score, member_id=p.member_id) for p in rows],
    )
    return await with_members(page)
