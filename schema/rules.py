"""Earning rules: readable by anyone, changed by ADMIN."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry

from schema.activities import ActivityKind
from schema.context import Info
from schema.errors import PermissionDeniedError, ValidationError, as_error
from server import actions
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.errors import RewardsError
from server.rewards.rules import EarningRule as RuleRow

__all__ = ["EarningRule", "RuleMutations", "RuleQueries"]


@strawberry.type(description="What one kind of activity earns, and its limits.")
class EarningRule:
    row: strawberry.Private[RuleRow]

    @strawberry.field
    def kind(self) -> ActivityKind:
        return ActivityKind(self.row.kind.value)

    @strawberry.field(description="Points per activity (reviews, shares, referrals).")
    def points(self) -> int:
        return self.row.points

    @strawberry.field(
        description="Purchases: points per 1.00 of order value; null: the server's setting."
    )
    def points_per_currency_unit(self) -> float | None:
        rate = self.row.points_per_currency_unit
        return None if rate is None else float(rate)

    @strawberry.field(description="Most of this kind a member may record per UTC day.")
    def daily_cap(self) -> int | None:
        return self.row.daily_cap

    @strawberry.field(description="Most of this kind a member may record per calendar month.")
    def monthly_cap(self) -> int | None:
        return self.row.monthly_cap

    @strawberry.field(description="Most per member and target (product, page, friend).")
    def target_cap(self) -> int | None:
        return self.row.target_cap

    @strawberry.field(
        description="Days before points become spendable; null: the server's setting."
    )
    def pending_days(self) -> int | None:
        return self.row.pending_days

    @strawberry.field
    def needs_moderation(self) -> bool:
        return self.row.needs_moderation

    @strawberry.field
    def active(self) -> bool:
        return self.row.active

    @strawberry.field
    def updated_by(self) -> str:
        return self.row.updated_by


@strawberry.input(description="The whole rule of one kind; omitted caps mean no cap.")
class UpdateEarningRuleInput:
    kind: ActivityKind
    points: int = 0
    points_per_currency_unit: float | None = None
    daily_cap: int | None = None
    monthly_cap: int | None = None
    target_cap: int | None = None
    pending_days: int | None = None
    needs_moderation: bool = False
    active: bool = True


@strawberry.type
class EarningRuleSaved:
    rule: EarningRule


EarningRuleResult = Annotated[
    EarningRuleSaved | ValidationError | PermissionDeniedError,
    strawberry.union("EarningRuleResult"),
]


@strawberry.type
class RuleQueries:
    @strawberry.field(description="What each kind of activity earns; anyone may read it.")
    async def earning_rules(self) -> list[EarningRule]:
        return [EarningRule(row=r) for r in await actions.earning_rules()]


@strawberry.type
class RuleMutations:
    @strawberry.mutation(description="ADMIN: change what a kind of activity earns; logged.")
    async def update_earning_rule(
        self,
        info: Info,
        input: UpdateEarningRuleInput,
    ) -> EarningRuleResult:
        rate = input.points_per_currency_unit
        try:
            row = await actions.update_earning_rule(
                info.context.principal,
                kind=ActivityKindRow(input.kind.value),
                points=input.points,
                points_per_currency_unit=None if rate is None else Decimal(str(rate)),
                daily_cap=input.daily_cap,
                monthly_cap=input.monthly_cap,
                target_cap=input.target_cap,
                pending_days=input.pending_days,
                needs_moderation=input.needs_moderation,
                active=input.active,
            )
        except RewardsError as exc:
            return cast(EarningRuleResult, as_error(exc))
        return EarningRuleSaved(rule=EarningRule(row=row))
