"""Contests: lifecycle mutations for moderators, boards and frozen results for everyone."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry

from leaderboards import Board, BoardsUnavailable
from schema.activities import ActivityKind
from schema.context import Info
from schema.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    as_error,
    query_error,
)
from schema.leaderboards import LeaderboardEntry, LeaderboardPage, ranked_page
from schema.members import Member
from server import actions
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.contests import Contest as ContestRow
from server.rewards.contests import ContestStatus as ContestStatusRow
from server.rewards.contests import Placement as PlacementRow
from server.rewards.contests import RankPrize
from server.rewards.errors import RewardsError

__all__ = ["Contest", "ContestMutations", "ContestPlacement", "ContestQueries"]


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

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def status(self, info: Info) -> ContestStatus:
        return ContestStatus(actions.contest_status(info.context.services, self.row).value)

    @strawberry.field
    def starts_at(self) -> datetime:
        return self.row.starts_at

    @strawberry.field
    def ends_at(self) -> datetime:
        return self.row.ends_at

    @strawberry.field(description="Only points from these kinds of activity count.")
    def activity_kinds(self) -> list[ActivityKind]:
        return [ActivityKind(k) for k in self.row.activity_kinds]

    @strawberry.field
    def community(self) -> str | None:
        return self.row.community

    @strawberry.field
    def prizes(self) -> list[ContestPrize]:
        return [
            ContestPrize(
                from_rank=p.from_rank, to_rank=p.to_rank, points=p.points, badge_slug=p.badge_slug
            )
            for p in (RankPrize.of(d) for d in self.row.prizes)
        ]

    @strawberry.field(description="Why it was cancelled; null unless cancelled.")
    def cancel_reason(self) -> str | None:
        return self.row.cancel_reason

    @strawberry.field(
        description="The live board; once finalized, the frozen standings (kept in SQL)."
    )
    async def leaderboard(self, info: Info, first: int = 10, offset: int = 0) -> LeaderboardPage:
        if self.row.finalized_at is not None:
            placements = await actions.placements_of_contest(self.row.id)
            chosen = placements[offset : offset + max(0, min(first, 100))]
            rows = await info.context.loaders.member.load_many([p.member_id for p in chosen])
            return LeaderboardPage(
                total_members=len(placements),
                entries=[
                    LeaderboardEntry(rank=p.rank, score=p.score, member=Member.of(m))
                    for p, m in zip(chosen, rows, strict=True)
                    if m is not None
                ],
            )
        try:
            page = await actions.leaderboard(
                info.context.services, Board(contest_id=self.row.id), first=first, offset=offset
            )
        except (RewardsError, BoardsUnavailable) as exc:
            raise query_error(exc) from None
        return ranked_page(info, page)

    @strawberry.field(description="Frozen standings with prizes; empty until finalized.")
    async def results(self) -> list[ContestPlacement]:
        return [ContestPlacement(row=p) for p in await actions.placements_of_contest(self.row.id)]


@strawberry.type(description="A member's frozen place in a finalized contest.")
class ContestPlacement:
    row: strawberry.Private[PlacementRow]

    @strawberry.field
    async def contest(self) -> Contest:
        return Contest(row=await self.row.contest)

    @strawberry.field
    async def member(self, info: Info) -> Member:
        found = await info.context.loaders.member.load(self.row.member_id)
        if found is None:
            raise LookupError(f"no member {self.row.member_id}")
        return Member.of(found)

    @strawberry.field
    def rank(self) -> int:
        return self.row.rank

    @strawberry.field
    def score(self) -> int:
        return self.row.score

    @strawberry.field
    def points_awarded(self) -> int:
        return self.row.points_awarded

    @strawberry.field
    def badge_slug(self) -> str | None:
        return self.row.badge_slug


@strawberry.input
class ContestPrizeInput:
    from_rank: int
    to_rank: int
    points: int
    badge_slug: str | None = None


@strawberry.input
class CreateContestInput:
    name: str
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    activity_kinds: list[ActivityKind]
    prizes: list[ContestPrizeInput] = strawberry.field(default_factory=list)
    community: str | None = None
    min_tier_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields given change; after the start, description only.")
class UpdateContestInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    activity_kinds: list[ActivityKind] | None = None
    prizes: list[ContestPrizeInput] | None = None
    community: str | None = None
    min_tier_id: strawberry.ID | None = None


@strawberry.type
class ContestSaved:
    contest: Contest


ContestResult = Annotated[
    ContestSaved | ValidationError | PermissionDeniedError | NotFoundError | ConflictError,
    strawberry.union("ContestResult"),
]


def _prizes(prizes: list[ContestPrizeInput] | None) -> list[RankPrize] | None:
    if prizes is None:
        return None
    return [
        RankPrize(p.from_rank, p.to_rank, p.points, (p.badge_slug or "").strip() or None)
        for p in prizes
    ]


def _fields(input: CreateContestInput | UpdateContestInput) -> actions.ContestFields:
    kinds = input.activity_kinds
    return actions.ContestFields(
        name=input.name,
        description=input.description,
        starts_at=input.starts_at,
        ends_at=input.ends_at,
        activity_kinds=None if kinds is None else [ActivityKindRow(k.value) for k in kinds],
        prizes=_prizes(input.prizes),
        community=input.community,
        min_tier_id=input.min_tier_id,
    )


async def _saved(call: object) -> ContestResult:
    try:
        row = await call  # type: ignore[misc]
    except RewardsError as exc:
        return cast(ContestResult, as_error(exc))
    if isinstance(row, actions.Finalized):
        row = row.contest
    return ContestSaved(contest=Contest(row=row))


@strawberry.type
class ContestQueries:
    @strawberry.field(description="Contests, newest first; drafts and cancelled ones for staff.")
    async def contests(self, info: Info, status: ContestStatus | None = None) -> list[Contest]:
        wanted = None if status is None else ContestStatusRow(status.value)
        rows = await actions.contests_list(info.context.services, info.context.principal, wanted)
        return [Contest(row=r) for r in rows]

    @strawberry.field
    async def contest(self, info: Info, id: strawberry.ID) -> Contest | None:
        try:
            row = await actions.contest_by_id(id)
        except RewardsError:
            return None
        visible = await actions.contests_list(info.context.services, info.context.principal, None)
        return Contest(row=row) if any(c.id == row.id for c in visible) else None


@strawberry.type
class ContestMutations:
    @strawberry.mutation(
        description="MODERATOR: create a contest; it runs between startsAt and endsAt."
    )
    async def create_contest(self, info: Info, input: CreateContestInput) -> ContestResult:
        return await _saved(
            actions.create_contest(info.context.services, info.context.principal, _fields(input))
        )

    @strawberry.mutation(description="MODERATOR: change a contest before it starts.")
    async def update_contest(self, info: Info, input: UpdateContestInput) -> ContestResult:
        return await _saved(
            actions.update_contest(
                info.context.services, info.context.principal, input.id, _fields(input)
            )
        )

    @strawberry.mutation(description="MODERATOR: make a draft visible; the clock runs it.")
    async def publish_contest(self, info: Info, id: strawberry.ID) -> ContestResult:
        return await _saved(
            actions.publish_contest(info.context.services, info.context.principal, id)
        )

    @strawberry.mutation(description="MODERATOR: cancel before it is finalized, with a reason.")
    async def cancel_contest(self, info: Info, id: strawberry.ID, reason: str) -> ContestResult:
        return await _saved(
            actions.cancel_contest(info.context.services, info.context.principal, id, reason)
        )

    @strawberry.mutation(description="MODERATOR: remove a member from the board and the prizes.")
    async def disqualify_contestant(
        self, info: Info, contest_id: strawberry.ID, member_id: strawberry.ID, reason: str
    ) -> ContestResult:
        return await _saved(
            actions.disqualify(
                info.context.services, info.context.principal, contest_id, member_id, reason
            )
        )

    @strawberry.mutation(description="MODERATOR: undo a disqualification.")
    async def reinstate_contestant(
        self, info: Info, contest_id: strawberry.ID, member_id: strawberry.ID
    ) -> ContestResult:
        return await _saved(
            actions.reinstate(info.context.services, info.context.principal, contest_id, member_id)
        )

    @strawberry.mutation(
        description="MODERATOR: after endsAt, award the contest prizes exactly once."
    )
    async def finalize_contest(self, info: Info, id: strawberry.ID) -> ContestResult:
        return await _saved(
            actions.finalize_contest(info.context.services, info.context.principal, id)
        )
