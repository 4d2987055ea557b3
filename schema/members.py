"""Members, accounts and their ledger; ``upsertMember`` and ``adjustPoints``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from schema.context import Info
from schema.errors import (
    ConflictError,
    InsufficientPointsError,
    LimitReachedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    as_error,
    query_error,
)
from schema.windows import LeaderboardWindow
from server import actions
from server.rewards.errors import RewardsError
from server.rewards.ledger import LedgerEntry as LedgerRow
from server.rewards.members import Member as MemberRow

if TYPE_CHECKING:
    from schema.activities import ActivityConnection
    from schema.badges import BadgeProgress, MemberBadge
    from schema.contests import ContestPlacement
    from schema.leaderboards import CommunityRank
    from schema.prizes import Redemption, Tier, TierProgress

__all__ = ["Account", "LedgerEntry", "Member", "MemberMutations", "MemberQueries"]


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
    async def badges(
        self, info: Info
    ) -> list[Annotated[MemberBadge, strawberry.lazy("schema.badges")]]:
        from schema.badges import member_badge

        return [member_badge(g) for g in await info.context.loaders.badges.load(self.row.id)]

    @strawberry.field(description="Finished contests, newest first, with rank and prize.")
    async def contest_results(
        self,
    ) -> list[Annotated[ContestPlacement, strawberry.lazy("schema.contests")]]:
        from schema.contests import ContestPlacement

        return [ContestPlacement(row=p) for p in await actions.placements_of_member(self.row.id)]

    @strawberry.field
    async def tier(self, info: Info) -> Annotated[Tier, strawberry.lazy("schema.prizes")]:
        from schema.prizes import tier_of

        standing = await actions.tier_standing(info.context.services, self.row.id)
        if standing.tier is None:
            raise LookupError("no tiers are defined")
        return tier_of(standing.tier)

    @strawberry.field(
        description="Standing in the member's own community, ALL_TIME unless asked otherwise."
    )
    async def community_rank(
        self,
        info: Info,
        window: LeaderboardWindow = LeaderboardWindow.ALL_TIME,
    ) -> Annotated[CommunityRank, strawberry.lazy("schema.leaderboards")]:
        from schema.leaderboards import community_rank

        return await community_rank(info, self, window)

    @classmethod
    def of(cls, row: MemberRow) -> Member:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            lifetime_points=row.lifetime_points,
        )


@strawberry.type
class LedgerEntry:
    row: strawberry.Private[LedgerRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Positive credits, negative debits.")
    def amount(self) -> int:
        return self.row.amount

    @strawberry.field
    def reason(self) -> str:
        return self.row.reason

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(
        description="For a pending credit, when its points become spendable; "
        "null when they were spendable at once."
    )
    def spendable_at(self) -> datetime | None:
        return self.row.available_at


@strawberry.type
class LedgerEntryEdge:
    node: LedgerEntry
    cursor: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge]
    page_info: PageInfo


@strawberry.type
class ExpiringPoints:
    points: int
    expires_at: datetime


@strawberry.type(description="A member's private account: only the member, or staff, may read it.")
class Account:
    row: strawberry.Private[MemberRow]

    @strawberry.field
    def member(self) -> Member:
        return Member.of(self.row)

    @strawberry.field(description="Spendable points now.")
    def points_balance(self) -> int:
        return self.row.points_balance

    @strawberry.field(description="Earned but not yet spendable (moderation, return window).")
    def pending_points(self) -> int:
        return self.row.pending_points

    @strawberry.field(
        description="Points owed after a reversal the balance could not cover; "
        "paid off from the next points earned."
    )
    def owed_points(self) -> int:
        return self.row.debt_points

    @strawberry.field
    async def tier_progress(
        self, info: Info
    ) -> Annotated[TierProgress, strawberry.lazy("schema.prizes")]:
        from schema.prizes import TierProgress

        return TierProgress(row=await actions.tier_standing(info.context.services, self.row.id))

    @strawberry.field(
        description="Prizes redeemed, newest first; codes in full only for the member."
    )
    async def redemptions(
        self, info: Info
    ) -> list[Annotated[Redemption, strawberry.lazy("schema.prizes")]]:
        from schema.prizes import Redemption

        own = info.context.principal.member_id == self.row.id
        return [
            Redemption(row=r, owner_view=own) for r in await actions.redemptions_of(self.row.id)
        ]

    @strawberry.field(description="Give it to friends: they enter it at sign-up.")
    def referral_code(self) -> str:
        return self.row.referral_code

    @strawberry.field(description="Spendable points that expire within 30 days, soonest first.")
    async def expiring_points(self, info: Info) -> list[ExpiringPoints]:
        due = await actions.expiring_points(info.context.services, self.row.id)
        return [ExpiringPoints(points=e.points, expires_at=e.expires_at) for e in due]

    @strawberry.field(
        description='Every enabled badge with the member\'s progress: "3 more reviews to Silver".'
    )
    async def badge_progress(
        self,
    ) -> list[Annotated[BadgeProgress, strawberry.lazy("schema.badges")]]:
        from schema.badges import progress_list

        return progress_list(await actions.badge_progress(self.row.id))

    @strawberry.field(description="What the member did and what it earned, newest first.")
    async def activities(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Annotated[ActivityConnection, strawberry.lazy("schema.activities")]:
        from schema.activities import activity_connection

        try:
            page = await actions.activities_page(
                info.context.services, self.row.id, first=first, after=after
            )
        except RewardsError as exc:
            raise query_error(exc) from None
        return activity_connection(page)

    @strawberry.field
    async def ledger(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> LedgerEntryConnection:
        try:
            page = await actions.ledger_page(
                info.context.services, self.row.id, first=first, after=after
            )
        except RewardsError as exc:
            raise query_error(exc) from None
        return LedgerEntryConnection(
            edges=[
                LedgerEntryEdge(node=LedgerEntry(row=e), cursor=actions.ledger_cursor(e))
                for e in page.entries
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.input
class UpsertMemberInput:
    external_id: str = strawberry.field(description="The shop's own customer id.")
    display_name: str
    email: str | None = None
    community: str | None = None
    referral_code: str | None = strawberry.field(
        default=None, description="A referrer's code given at sign-up."
    )


@strawberry.type
class MemberSaved:
    member: Member


UpsertMemberResult = Annotated[
    MemberSaved | ValidationError | PermissionDeniedError | LimitReachedError,
    strawberry.union("UpsertMemberResult"),
]


@strawberry.input
class AdjustPointsInput:
    idempotency_key: str
    member_id: strawberry.ID
    amount: int
    reason: str
    qualifying: bool = strawberry.field(
        default=False, description="Count it toward tiers, like points earned."
    )


@strawberry.type
class PointsAdjusted:
    entry: LedgerEntry
    account: Account
    duplicate: bool = strawberry.field(
        description="True when the idempotency key was seen before; nothing was moved twice."
    )


AdjustPointsResult = Annotated[
    PointsAdjusted
    | ValidationError
    | PermissionDeniedError
    | NotFoundError
    | InsufficientPointsError
    | ConflictError,
    strawberry.union("AdjustPointsResult"),
]


@strawberry.type
class MemberQueries:
    @strawberry.field(description="The caller's own account; null unless the caller is a SHOPPER.")
    async def viewer(self, info: Info) -> Account | None:
        row = await actions.viewer(info.context.services, info.context.principal)
        return None if row is None else Account(row=row)

    @strawberry.field(description="Any member's account; staff only, else null.")
    async def account(self, info: Info, member_id: strawberry.ID) -> Account | None:
        row = await actions.account(info.context.services, info.context.principal, member_id)
        return None if row is None else Account(row=row)

    @strawberry.field
    async def member(self, id: strawberry.ID) -> Member | None:
        row = await actions.member(id)
        return None if row is None else Member.of(row)


@strawberry.type
class MemberMutations:
    @strawberry.mutation(description="SERVICE or ADMIN: create or update a member (sign-up).")
    async def upsert_member(self, info: Info, input: UpsertMemberInput) -> UpsertMemberResult:
        try:
            row = await actions.upsert_member(
                info.context.services,
                info.context.principal,
                external_id=input.external_id,
                display_name=input.display_name,
                email=input.email,
                community=input.community,
                referral_code=input.referral_code,
            )
        except RewardsError as exc:
            return cast(UpsertMemberResult, as_error(exc))
        return MemberSaved(member=Member.of(row))

    @strawberry.mutation(
        description="ADMIN: a manual credit or debit, kept in the ledger with its reason."
    )
    async def adjust_points(self, info: Info, input: AdjustPointsInput) -> AdjustPointsResult:
        try:
            done = await actions.adjust_points(
                info.context.services,
                info.context.principal,
                idempotency_key=input.idempotency_key,
                member_id=input.member_id,
                amount=input.amount,
                reason=input.reason,
                qualifying=input.qualifying,
            )
        except RewardsError as exc:
            return cast(AdjustPointsResult, as_error(exc))
        return PointsAdjusted(
            entry=LedgerEntry(row=done.entry),
            account=Account(row=done.member),
            duplicate=done.duplicate,
        )
