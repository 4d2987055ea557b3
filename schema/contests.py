"""Contests: their boards and frozen results, and the contest queries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.activities import ActivityKind
from schema.context import Info
from schema.leaderboards import LeaderboardPage
from schema.members import Member
from schema.runner import field
from server import actions
from server.actions.contest_lifecycle import disqualified
from server.rewards.contests import Contest as ContestRow
from server.rewards.contests import ContestStatus as ContestStatusRow
from server.rewards.contests import Disqualification as DisqualificationRow
from server.rewards.contests import Placement as PlacementRow
from server.rewards.contests import RankPrize
from server.rewards.members import Member as MemberRow

__all__ = [
    "Contest",
    "ContestDisqualification",
    "ContestPlacement",
    "ContestQueries",
    "ContestStatus",
    "placement_of",
]


@strawberry.enum
class ContestStatus(Enum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    ENDED = "ENDED"
    FINALIZED = "FINALIZED"
    CANCELLED = "CANCELLED"


@strawberry.type
class ContestPrize:
    from_rank: int
    to_rank: int
    points: int
    badge_slug: str | None


@strawberry.type
class Contest:
    row: strawberry.Private[ContestRow]
    id: strawberry.ID
    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    activity_kinds: list[ActivityKind] = strawberry.field(
        description="Only points from these kinds of activity count."
    )
    community: str | None
    prizes: list[ContestPrize]
    cancel_reason: str | None = strawberry.field(
        description="Why it was cancelled; null unless cancelled."
    )

    @strawberry.field
    def status(self, info: Info) -> ContestStatus:
        return ContestStatus(actions.contest_status(info.context.services, self.row).value)

    @field(description="The live board; once finalized, the frozen standings (kept in SQL).")
    async def leaderboard(self, info: Info, first: int = 10, offset: int = 0) -> LeaderboardPage:
        page = await actions.contest_board(
            info.context.services, self.row, first=first, offset=offset
        )
        return LeaderboardPage.of(info, page)

    @strawberry.field(description="Frozen standings with prizes; empty until finalized.")
    async def results(self, info: Info) -> list[ContestPlacement]:
        placements = await info.context.loaders.contest_placements.load(self.row.id)
        members = await info.context.loaders.member.load_many([p.member_id for p in placements])
        return [
            placement_of(p, self.row, m)
            for p, m in zip(placements, members, strict=True)
            if m is not None
        ]

    @field(description="MODERATOR: members taken off the board now, newest decision first.")
    async def disqualified(self, info: Info) -> list[ContestDisqualification]:
        rows = await disqualified(info.context.principal, self.row)
        members = await info.context.loaders.member.load_many([d.member_id for d in rows])
        return [
            ContestDisqualification.of(d, m)
            for d, m in zip(rows, members, strict=True)
            if m is not None
        ]

    @classmethod
    def of(cls, row: ContestRow) -> Contest:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            activity_kinds=[ActivityKind(k) for k in row.activity_kinds],
            community=row.community,
            prizes=[
                ContestPrize(
                    from_rank=p.from_rank,
                    to_rank=p.to_rank,
                    points=p.points,
                    badge_slug=p.badge_slug,
                )
                for p in (RankPrize.of(d) for d in row.prizes)
            ],
            cancel_reason=row.cancel_reason,
        )


@strawberry.type(description="A member off a contest's board, and why (staff only).")
class ContestDisqualification:
    member: Member
    reason: str
    decided_at: datetime

    @classmethod
    def of(cls, row: DisqualificationRow, member: MemberRow) -> ContestDisqualification:
        return cls(member=Member.of(member), reason=row.reason, decided_at=row.decided_at)


@strawberry.type(description="A member's frozen place in a finalized contest.")
class ContestPlacement:
    contest: Contest
    member: Member
    rank: int
    score: int
    points_awarded: int
    badge_slug: str | None


def placement_of(row: PlacementRow, contest: ContestRow, member: MemberRow) -> ContestPlacement:
    """The node of a placement whose contest and member are loaded already."""
    return ContestPlacement(
        contest=Contest.of(contest),
        member=Member.of(member),
        rank=row.rank,
        score=row.score,
        points_awarded=row.points_awarded,
        badge_slug=row.badge_slug,
    )


@strawberry.type
class ContestQueries:
    @strawberry.field(
        description="Contests, newest first; drafts and cancelled ones for moderators and admins."
    )
    async def contests(self, info: Info, status: ContestStatus | None = None) -> list[Contest]:
        wanted = None if status is None else ContestStatusRow(status.value)
        rows = await actions.contests_list(info.context.services, info.context.principal, wanted)
        return [Contest.of(r) for r in rows]

    @strawberry.field
    async def contest(self, info: Info, id: strawberry.ID) -> Contest | None:
        row = await actions.visible_contest(info.context.services, info.context.principal, id)
        return None if row is None else Contest.of(row)
