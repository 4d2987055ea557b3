"""The public member profile: the hub of the type graph.

Every field a list of members reaches (badges, tier, community rank, contest
results) goes through the request's DataLoaders: a page of 100 members costs as
many statements as a page of 10. Contest results point up the type graph, so the
loader builds those nodes (``schema.loaders``) and this module names the type lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.badges import MemberBadge
from schema.context import Info
from schema.ranks import CommunityRank
from schema.runner import field
from schema.tiers import Tier
from schema.windows import LeaderboardWindow
from server import actions
from server.rewards.members import Member as MemberRow

if TYPE_CHECKING:
    from schema.contests import ContestPlacement

__all__ = ["Member", "MemberQueries", "load_member"]


@strawberry.type(description="A member's public profile: anyone may read it.")
class Member:
    """Plain fields, filled once: the leaderboard lists many members, and default
    resolvers cost far less than one resolver call per field."""

    row: strawberry.Private[MemberRow]
    id: strawberry.ID
    display_name: str
    lifetime_points: int = strawberry.field(
        description="Points ever earned and kept (reversals subtract, spending does not)."
    )

    @strawberry.field(description="Badges currently held (revoked ones are not listed).")
    async def badges(self, info: Info) -> list[MemberBadge]:
        return [MemberBadge.of(g) for g in await info.context.loaders.badges.load(self.row.id)]

    @strawberry.field(description="Finished contests, newest first, with rank and prize.")
    async def contest_results(
        self, info: Info
    ) -> list[Annotated[ContestPlacement, strawberry.lazy("schema.contests")]]:
        return await info.context.loaders.contest_results.load(self.row.id)

    @strawberry.field
    async def tier(self, info: Info) -> Tier:
        return Tier.held(await info.context.loaders.tier.load(self.row.id))

    @field(description="Standing in the member's own community, ALL_TIME unless asked otherwise.")
    async def community_rank(
        self, info: Info, window: LeaderboardWindow = LeaderboardWindow.ALL_TIME
    ) -> CommunityRank:
        rank = await info.context.loaders.community_rank.load((self.row, window.value))
        return CommunityRank.of(rank)

    @classmethod
    def of(cls, row: MemberRow) -> Member:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            lifetime_points=row.lifetime_points,
        )


async def load_member(info: Info, member_id: int) -> Member:
    """The member with this id, through the request's loader; it must exist."""
    row = await info.context.loaders.member.load(member_id)
    if row is None:  # foreign keys make this impossible
        raise LookupError(f"no member {member_id}")
    return Member.of(row)


@strawberry.type
class MemberQueries:
    @strawberry.field
    async def member(self, id: strawberry.ID) -> Member | None:
        row = await actions.member(id)
        return None if row is None else Member.of(row)
