"""Leaderboard pages, members batch-loaded from SQL."""

from __future__ import annotations

import strawberry

from leaderboards import BoardsUnavailable
from schema.context import Info
from schema.errors import query_error
from schema.members import Member
from server import actions
from server.rewards.errors import RewardsError

__all__ = ["LeaderboardEntry", "LeaderboardPage", "LeaderboardQueries"]


@strawberry.type
class LeaderboardEntry:
    rank: int = strawberry.field(description="Competition ranking, as in CommunityRank.position.")
    score: int
    member: Member


@strawberry.type
class LeaderboardPage:
    total_members: int
    entries: list[LeaderboardEntry]


@strawberry.type
class LeaderboardQueries:
    @strawberry.field(
        description="The global all-time board, best first: equal scores share a rank "
        "and the next rank skips (1, 2, 2, 4)."
    )
    async def leaderboard(self, info: Info, first: int = 10, offset: int = 0) -> LeaderboardPage:
        try:
            page = await actions.leaderboard(info.context.services, first=first, offset=offset)
        except (RewardsError, BoardsUnavailable) as exc:
            raise query_error(exc) from None
        loader = info.context.loaders.member
        members = await loader.load_many([row.member_id for row in page.rows])
        entries = [
            LeaderboardEntry(rank=row.rank, score=row.score, member=Member.of(m))
            for row, m in zip(page.rows, members, strict=True)
            if m is not None
        ]
        return LeaderboardPage(total_members=page.total_members, entries=entries)
