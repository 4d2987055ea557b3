"""A member's private account (balances, tier progress, redemptions, history) and the
``viewer`` and ``account`` queries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.activities import ActivityConnection
from schema.badges import BadgeProgress
from schema.context import Info
from schema.experiments import ExperimentTarget
from schema.members import Member
from schema.prizes import Redemption
from schema.runner import field
from schema.shared import PageInfo
from schema.tiers import TierProgress
from server import actions
from server.actions.experiments import viewer_holdouts
from server.rewards.ledger import LedgerEntry as LedgerRow
from server.rewards.members import Member as MemberRow

__all__ = ["Account", "AccountQueries", "LedgerEntry"]


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    amount: int = strawberry.field(description="Positive credits, negative debits.")
    reason: str
    created_at: datetime
    spendable_at: datetime | None = strawberry.field(
        description="For a pending credit, when its points become spendable; "
        "null when they were spendable at once."
    )

    @classmethod
    def of(cls, row: LedgerRow) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=row.amount,
            reason=row.reason,
            created_at=row.created_at,
            spendable_at=row.available_at,
        )


@strawberry.type
class LedgerEntryEdge:
    node: LedgerEntry
    cursor: str


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
    member: Member
    points_balance: int = strawberry.field(description="Spendable points now.")
    pending_points: int = strawberry.field(
        description="Earned but not yet spendable (moderation, return window)."
    )
    owed_points: int = strawberry.field(
        description="Points owed after a reversal the balance could not cover; "
        "paid off from the next points earned."
    )
    referral_code: str = strawberry.field(
        description="Give it to friends: they enter it at sign-up."
    )

    @strawberry.field
    async def tier_progress(self, info: Info) -> TierProgress:
        return TierProgress.of(await info.context.loaders.standing.load(self.row.id))

    @strawberry.field(
        description="Prizes redeemed, newest first; codes in full only for the member."
    )
    async def redemptions(self, info: Info) -> list[Redemption]:
        views = await actions.redemptions_of(info.context.principal, self.row.id)
        return [Redemption.of(v) for v in views]

    @strawberry.field(description="Spendable points that expire within 30 days, soonest first.")
    async def expiring_points(self, info: Info) -> list[ExpiringPoints]:
        due = await actions.expiring_points(info.context.services, self.row.id)
        return [ExpiringPoints(points=e.points, expires_at=e.expires_at) for e in due]

    @strawberry.field(
        description='Every enabled badge with the member\'s progress: "3 more reviews to Silver".'
    )
    async def badge_progress(self) -> list[BadgeProgress]:
        return [BadgeProgress.of(p) for p in await actions.badge_progress(self.row.id)]

    @strawberry.field(
        description="What the member does not get now: the target of each running holdout "
        "experiment that holds them out (README, Experiments)."
    )
    async def holdouts(self, info: Info) -> list[ExperimentTarget]:
        found = await viewer_holdouts(info.context.services, self.row.id)
        return [ExperimentTarget.of(kind, ref) for kind, ref in found]

    @field(description="What the member did and what it earned, newest first.")
    async def activities(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ActivityConnection:
        page = await actions.activities_page(
            info.context.services, self.row.id, first=first, after=after
        )
        return ActivityConnection.of(page)

    @field()
    async def ledger(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> LedgerEntryConnection:
        page = await actions.ledger_page(
            info.context.services, self.row.id, first=first, after=after
        )
        return LedgerEntryConnection(
            edges=[
                LedgerEntryEdge(node=LedgerEntry.of(e), cursor=actions.ledger_cursor(e))
                for e in page.entries
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @classmethod
    def of(cls, row: MemberRow) -> Account:
        return cls(
            row=row,
            member=Member.of(row),
            points_balance=row.points_balance,
            pending_points=row.pending_points,
            owed_points=row.debt_points,
            referral_code=row.referral_code,
        )


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The caller's own account; null unless the caller is a SHOPPER.")
    async def viewer(self, info: Info) -> Account | None:
        row = await actions.viewer(info.context.services, info.context.principal)
        return None if row is None else Account.of(row)

    @strawberry.field(description="Any member's account; staff only, else null.")
    async def account(self, info: Info, member_id: strawberry.ID) -> Account | None:
        row = await actions.account(info.context.services, info.context.principal, member_id)
        return None if row is None else Account.of(row)
