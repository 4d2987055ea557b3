"""A member's standing in their own community, with its title."""

from __future__ import annotations

import strawberry

from server import actions

__all__ = ["CommunityRank"]


@strawberry.type
class CommunityRank:
    community: str
    position: int | None = strawberry.field(
        description="Competition ranking: equal scores share a rank, the next rank skips "
        "(1, 2, 2, 4). Null when the member has no score yet."
    )
    score: int
    total_members: int
    title: str = strawberry.field(
        description="A title for the member's standing, e.g. Newcomer, Contributor, Expert, Legend."
    )

    @classmethod
    def of(cls, rank: actions.CommunityRank) -> CommunityRank:
        return cls(
            community=rank.community,
            position=rank.standing.position,
            score=rank.standing.score,
            total_members=rank.standing.total_members,
            title=rank.title,
        )
