"""Earning rules: readable by anyone, changed by ADMIN."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from schema.activities import ActivityKind
from schema.context import Info
from schema.errors import PermissionDeniedError, ValidationError
from schema.runner import arguments, mutation
from server import actions
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.rules import EarningRule as RuleRow

__all__ = ["EarningRule", "RuleMutations", "RuleQueries"]


@strawberry.type(description="What one kind of activity earns, and its limits.")
class EarningRule:
    kind: ActivityKind
    points: int = strawberry.field(description="Points per activity (reviews, shares, referrals).")
    points_per_currency_unit: float | None = strawberry.field(
        description="Purchases: points per 1.00 of order value; null: the server's setting."
    )
    daily_cap: int | None = strawberry.field(
        description="Most of this kind a member may record per UTC day."
    )
    monthly_cap: int | None = strawberry.field(
        description="Most of this kind a member may record per calendar month."
    )
    target_cap: int | None = strawberry.field(
        description="Most per member and target (product, page, friend)."
    )
    pending_days: int | None = strawberry.field(
        description="Days before points become spendable; null: the server's setting."
    )
    needs_moderation: bool
    active: bool
    updated_by: str
    points_per_currency_unit_in_effect: float | None = strawberry.field(
        description="Purchases: the points per 1.00 earned now (the rule's, else the "
        "server's setting); null for the other kinds."
    )

    @classmethod
    def of(cls, row: RuleRow, default_rate: Decimal) -> EarningRule:
        rate = row.points_per_currency_unit
        purchase = row.kind is ActivityKindRow.PURCHASE
        return cls(
            kind=ActivityKind(row.kind.value),
            points=row.points,
            points_per_currency_unit=None if rate is None else float(rate),
            daily_cap=row.daily_cap,
            monthly_cap=row.monthly_cap,
            target_cap=row.target_cap,
            pending_days=row.pending_days,
            needs_moderation=row.needs_moderation,
            active=row.active,
            updated_by=row.updated_by,
            points_per_currency_unit_in_effect=(
                float(default_rate if rate is None else rate) if purchase else None
            ),
        )


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
    async def earning_rules(self, info: Info) -> list[EarningRule]:
        default = info.context.services.points_per_currency_unit
        return [EarningRule.of(r, default) for r in await actions.earning_rules()]


@strawberry.type
class RuleMutations:
    @mutation(description="ADMIN: change what a kind of activity earns; logged.")
    async def update_earning_rule(
        self, info: Info, input: UpdateEarningRuleInput
    ) -> EarningRuleResult:
        rate = input.points_per_currency_unit
        row = await actions.update_earning_rule(
            info.context.principal,
            **arguments(
                input,
                kind=ActivityKindRow(input.kind.value),
                points_per_currency_unit=None if rate is None else Decimal(str(rate)),
            ),
        )
        return EarningRuleSaved(
            rule=EarningRule.of(row, info.context.services.points_per_currency_unit)
        )
