"""Leaderboards: pages and neighbourhoods of any board, and live changes. A page's
members are primed into the request's DataLoader for the fields nested below them."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from schema.context import Info
from schema.members import Member
from schema.runner import field
from schema.windows import LeaderboardWindow
from server import actions
from server.i18n import render
from server.rewards.errors import RewardsError

__all__ = [
    "BoardInput",
    "LeaderboardEntry",
    "LeaderboardPage",
    "LeaderboardQueries",
    "LeaderboardSubscriptions",
]


@strawberry.input
class BoardInput:
    window: LeaderboardWindow = LeaderboardWindow.ALL_TIME
    community: str | None = strawberry.field(default=None, description="Null for the global board.")
    contest_id: strawberry.ID | None = strawberry.field(
        default=None, description="Set for a contest's board (window is then ignored)."
    )


async def _board(board: BoardInput | None) -> actions.Board:
    given = board or BoardInput()
    return await actions.parse_board(given.window.value, given.community, given.contest_id)


@strawberry.type
class LeaderboardEntry:
    rank: int = strawberry.field(description="Competition ranking, as in CommunityRank.position.")
    score: int
    member: Member


@strawberry.type
class LeaderboardPage:
    total_members: int
    entries: list[LeaderboardEntry]

    @classmethod
    def of(cls, info: Info, page: actions.RankedPage) -> LeaderboardPage:
        """The page, its members primed into the request's DataLoader for nested fields."""
        info.context.loaders.member.prime_many({m.id: m for _, m in page.rows})
        return cls(
            total_members=page.total_members,
            entries=[
                LeaderboardEntry(rank=row.rank, score=row.score, member=Member.of(m))
                for row, m in page.rows
            ],
        )


@strawberry.type
class LeaderboardQueries:
    @field(
        description="A board, best first: equal scores share a rank and the next rank skips "
        "(1, 2, 2, 4)."
    )
    async def leaderboard(
        self, info: Info, board: BoardInput | None = None, first: int = 10, offset: int = 0
    ) -> LeaderboardPage:
        page = await actions.leaderboard(
            info.context.services, await _board(board), first=first, offset=offset
        )
        return LeaderboardPage.of(info, page)

    @field(
        description="The member's entry with up to radius entries above and below it; "
        "no entries when the member has no score on this board."
    )
    async def leaderboard_around(
        self, info: Info, member_id: strawberry.ID, board: BoardInput | None = None, radius: int = 2
    ) -> LeaderboardPage:
        page = await actions.leaderboard_around(
            info.context.services, await _board(board), member_id=member_id, radius=radius
        )
        return LeaderboardPage.of(info, page)


@strawberry.type
class LeaderboardSubscriptions:
    @strawberry.subscription(description="The top entries of a board, pushed whenever they change.")
    async def leaderboard_changed(
        self, info: Info, board: BoardInput | None = None, first: int = 10
    ) -> AsyncGenerator[LeaderboardPage, None]:
        try:
            pages = actions.board_changes(info.context.services, await _board(board), first=first)
        except RewardsError as exc:
            raise GraphQLError(render(exc.text), extensions={"code": "BAD_USER_INPUT"}) from None
        async for page in pages:
            info.context.loaders.clear()  # each push reads what is true now
            yield LeaderboardPage.of(info, page)
