"""Leaderboards: pages, a member's neighbourhood, community ranks and live changes.

Boards are derived data in Redis; members come from SQL. A hot top page is
kept for ``Services.board_cache`` seconds at most (never older).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from leaderboards import (
    Board,
    BoardPage,
    BoardRow,
    Leaderboards,
    Standing,
    Window,
    listen,
    title_for,
)
from server.actions.common import find_by_id, page_size
from server.actions.members import members_by_ids
from server.actions.services import Services
from server.rewards import validation as v
from server.rewards.contests import Contest
from server.rewards.errors import Invalid
from server.rewards.members import Member
from server.rewards.text import msg

__all__ = [
    "GLOBAL_COMMUNITY",
    "CommunityRank",
    "RankedPage",
    "board_changes",
    "board_offset",
    "community_rank",
    "community_ranks",
    "leaderboard",
    "leaderboard_around",
    "parse_board",
    "with_members",
]

_MAX_OFFSET = 100_000
_MAX_RADIUS = 25
# The community name shown for members who belong to none (their rank is on the global board).
GLOBAL_COMMUNITY = "global"
# At most this many pushes a second per subscription: changes in between are coalesced.
_PUSHES_PER_SECOND = 4


@dataclass(frozen=True, slots=True)
class RankedPage:
    """A board page with its members read from SQL (a member deleted since is left out)."""

    total_members: int
    rows: list[tuple[BoardRow, Member]]


def _window(raw: str) -> Window:
    try:
        return Window(raw)
    except ValueError:
        names = ", ".join(w.value for w in Window)
        raise Invalid("window", msg("window must be one of {names}.", names=names)) from None


async def parse_board(window: str, community: str | None, contest_id: str | None) -> Board:
    """The board a client names: a contest's (which must exist), else a window's, global or
    of a community; ``Invalid`` for a window or community that cannot be one."""
    if contest_id is not None:
        contest = await find_by_id(Contest, "contestId", contest_id, "contest")
        return Board(contest_id=contest.id)
    return Board(window=_window(window), community=v.optional_slug("community", community))


def board_offset(offset: int) -> int:
    """``offset`` when a board page may start there; else ``Invalid('offset')``."""
    if not 0 <= offset <= _MAX_OFFSET:
        raise Invalid("offset", msg("offset must be between 0 and {most}.", most=_MAX_OFFSET))
    return offset


async def with_members(page: BoardPage) -> RankedPage:
    """The page's rows with their members, read in one query; a row whose member is gone
    is left out."""
    found = await members_by_ids(row.member_id for row in page.rows)
    rows = [(row, found[row.member_id]) for row in page.rows if row.member_id in found]
    return RankedPage(total_members=page.total_members, rows=rows)


async def leaderboard(svc: Services, board: Board, *, first: int, offset: int) -> RankedPage:
    """A page of a board, best first, competition-ranked."""
    size = page_size(svc, "first", first)
    board_offset(offset)
    if svc.boards is None:
        return RankedPage(total_members=0, rows=[])
    now = svc.clock()
    key = (svc.boards.key(board, now), size, offset)
    cached = svc.board_cache.get(key)
    if isinstance(cached, RankedPage):
        return cached
    page = await with_members(await svc.boards.page(board, first=size, offset=offset, at=now))
    svc.board_cache.put(key, page)
    return page


async def leaderboard_around(
    svc: Services, board: Board, *, member_id: str, radius: int
) -> RankedPage:
    """The member's row with up to ``radius`` rows above and below (empty without a score)."""
    if not 0 <= radius <= _MAX_RADIUS:
        raise Invalid("radius", msg("radius must be between 0 and {most}.", most=_MAX_RADIUS))
    member = await find_by_id(Member, "memberId", member_id, "member")
    if svc.boards is None:
        return RankedPage(total_members=0, rows=[])
    return await with_members(
        await svc.boards.around(board, member.id, radius=radius, at=svc.clock())
    )


@dataclass(frozen=True, slots=True)
class CommunityRank:
    """A member's standing in their own community, with the title it earns."""

    community: str
    standing: Standing

    @property
    def title(self) -> str:
        return title_for(self.standing.position, self.standing.total_members)


async def community_ranks(
    svc: Services, members: Sequence[Member], window: str
) -> dict[int, CommunityRank]:
    """Where each member stands in their own community (the global board without one) for
    a window (``ALL_TIME``, ``YEAR``, ...), by member id, in one Redis round trip."""
    period = _window(window)
    boards = [Board(window=period, community=m.community) for m in members]
    if svc.boards is None:
        standings = [Standing(position=None, score=0, total_members=0) for _ in members]
    else:
        pairs = [(board, m.id) for board, m in zip(boards, members, strict=True)]
        standings = await svc.boards.standings(pairs, at=svc.clock())
    return {
        m.id: CommunityRank(m.community or GLOBAL_COMMUNITY, standing)
        for m, standing in zip(members, standings, strict=True)
    }


async def community_rank(svc: Services, member: Member, window: str) -> CommunityRank:
    """Where the member stands in their own community (the global board without one)."""
    return (await community_ranks(svc, [member], window))[member.id]


def board_changes(svc: Services, board: Board, *, first: int) -> AsyncIterator[RankedPage]:
    """The top page now, then again whenever it changes, a few times a second at most.

    Changes come through Redis pub/sub, so a change made by any worker counts;
    a burst of changes in between two pushes becomes one push.
    """
    size = page_size(svc, "first", first)
    if svc.boards is None:
        raise RuntimeError("live leaderboards need the Redis client")
    return _changes(svc, svc.boards, board, size)


async def _changes(
    svc: Services, boards: Leaderboards, board: Board, size: int
) -> AsyncIterator[RankedPage]:
    last: list[tuple[int, int, int]] | None = None
    pending = asyncio.Event()
    pending.set()  # the first page goes out at once

    async def watch() -> None:
        async for _ in listen(boards.redis, boards.channel(board)):
            pending.set()

    watcher = asyncio.create_task(watch())
    try:
        while True:
            await pending.wait()
            pending.clear()
            page = await with_members(
                await boards.page(board, first=size, offset=0, at=svc.clock())
            )
            shape = [(r.rank, r.score, r.member_id) for r, _ in page.rows] + [
                (page.total_members, 0, 0)
            ]
            if shape != last:
                last = shape
                yield page
            await asyncio.sleep(1 / _PUSHES_PER_SECOND)
    finally:
        watcher.cancel()
