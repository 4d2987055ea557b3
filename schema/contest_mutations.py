"""Contest lifecycle mutations for moderators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.activities import ActivityKind
from schema.contests import Contest
from schema.context import Info
from schema.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import mutation
from server import actions
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.contests import RankPrize

__all__ = ["ContestMutations"]


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


def _fields(input: CreateContestInput | UpdateContestInput) -> actions.ContestFields:
    kinds, prizes = input.activity_kinds, input.prizes
    return actions.ContestFields(
        name=input.name,
        description=input.description,
        starts_at=input.starts_at,
        ends_at=input.ends_at,
        activity_kinds=None if kinds is None else [ActivityKindRow(k.value) for k in kinds],
        prizes=None
        if prizes is None
        else [
            RankPrize(p.from_rank, p.to_rank, p.points, (p.badge_slug or "").strip() or None)
            for p in prizes
        ],
        community=input.community,
        min_tier_id=input.min_tier_id,
    )


@strawberry.type
class ContestMutations:
    @mutation(description="MODERATOR: create a contest; it runs between startsAt and endsAt.")
    async def create_contest(self, info: Info, input: CreateContestInput) -> ContestResult:
        row = await actions.create_contest(
            info.context.services, info.context.principal, _fields(input)
        )
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: change a contest before it starts.")
    async def update_contest(self, info: Info, input: UpdateContestInput) -> ContestResult:
        row = await actions.update_contest(
            info.context.services, info.context.principal, input.id, _fields(input)
        )
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: make a draft visible; the clock runs it.")
    async def publish_contest(self, info: Info, id: strawberry.ID) -> ContestResult:
        row = await actions.publish_contest(info.context.services, info.context.principal, id)
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: cancel before it is finalized, with a reason.")
    async def cancel_contest(self, info: Info, id: strawberry.ID, reason: str) -> ContestResult:
        row = await actions.cancel_contest(
            info.context.services, info.context.principal, id, reason
        )
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: remove a member from the board and the prizes.")
    async def disqualify_contestant(
        self, info: Info, contest_id: strawberry.ID, member_id: strawberry.ID, reason: str
    ) -> ContestResult:
        row = await actions.disqualify(
            info.context.services, info.context.principal, contest_id, member_id, reason
        )
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: undo a disqualification.")
    async def reinstate_contestant(
        self, info: Info, contest_id: strawberry.ID, member_id: strawberry.ID
    ) -> ContestResult:
        row = await actions.reinstate(
            info.context.services, info.context.principal, contest_id, member_id
        )
        return ContestSaved(contest=Contest.of(row))

    @mutation(description="MODERATOR: after endsAt, award the contest prizes exactly once.")
    async def finalize_contest(self, info: Info, id: strawberry.ID) -> ContestResult:
        done = await actions.finalize_contest(info.context.services, info.context.principal, id)
        return ContestSaved(contest=Contest.of(done.contest))
