"""Points as money at checkout: the rule (anyone reads it, ADMIN sets it) and a
shopper's discount codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.accounts import Account
from schema.context import Info
from schema.errors import InsufficientPointsError, PermissionDeniedError, ValidationError
from schema.runner import arguments, caller, field, mutation
from server import actions
from server.rewards.discounts import DiscountCode as CodeRow
from server.rewards.discounts import DiscountRule as RuleRow

__all__ = ["DiscountMutations", "DiscountQueries"]


@strawberry.type(description="How points turn into money off an order.")
class DiscountRule:
    points_per_currency_unit: int = strawberry.field(description="Points for 1.00 off.")
    min_points: int
    max_points: int
    step_points: int = strawberry.field(description="Amounts go from minPoints in these steps.")
    enabled: bool

    @classmethod
    def of(cls, row: RuleRow) -> DiscountRule:
        return cls(
            points_per_currency_unit=row.points_per_currency_unit,
            min_points=row.min_points,
            max_points=row.max_points,
            step_points=row.step_points,
            enabled=row.enabled,
        )


@strawberry.type(description="A code for the shop's checkout, bought with points.")
class DiscountCode:
    id: strawberry.ID
    code: str
    points: int
    value_cents: int
    created_at: datetime

    @classmethod
    def of(cls, row: CodeRow) -> DiscountCode:
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            points=row.points,
            value_cents=row.value_cents,
            created_at=row.created_at,
        )


@strawberry.type
class DiscountRedeemed:
    discount: DiscountCode
    account: Account
    duplicate: bool


@strawberry.type
class DiscountRuleSaved:
    rule: DiscountRule


RedeemDiscountResult = Annotated[
    DiscountRedeemed | ValidationError | InsufficientPointsError | PermissionDeniedError,
    strawberry.union("RedeemDiscountResult"),
]
DiscountRuleResult = Annotated[
    DiscountRuleSaved | ValidationError | PermissionDeniedError,
    strawberry.union("DiscountRuleResult"),
]


@strawberry.input
class RedeemPointsForDiscountInput:
    idempotency_key: str
    points: int


@strawberry.input
class UpdateDiscountRuleInput:
    points_per_currency_unit: int
    min_points: int
    max_points: int
    step_points: int
    enabled: bool = True


@strawberry.type
class DiscountQueries:
    @field(description="How points turn into a discount at checkout; anyone may read it.")
    async def discount_rule(self) -> DiscountRule:
        return DiscountRule.of(await actions.discount_rule())


@strawberry.type
class DiscountMutations:
    @mutation(
        description="SHOPPER: turn points into a discount code for the shop's checkout. "
        "Idempotent by key; the redemption.created webhook carries the code and its value."
    )
    async def redeem_points_for_discount(
        self, info: Info, input: RedeemPointsForDiscountInput
    ) -> RedeemDiscountResult:
        done = await actions.redeem_points_for_discount(*caller(info), **arguments(input))
        return DiscountRedeemed(
            discount=DiscountCode.of(done.discount),
            account=Account.of(done.member),
            duplicate=done.duplicate,
        )

    @mutation(description="ADMIN: the points-for-discount rate and bounds.")
    async def update_discount_rule(
        self, info: Info, input: UpdateDiscountRuleInput
    ) -> DiscountRuleResult:
        row = await actions.update_discount_rule(info.context.principal, **arguments(input))
        return DiscountRuleSaved(rule=DiscountRule.of(row))
