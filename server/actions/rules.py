"""Earning rules: anyone may read them (a frontend shows "a review earns 20 points");
only ADMIN changes them."""

from __future__ import annotations

from decimal import Decimal

from server.actions.common import require
from server.auth import Principal, Role
from server.rewards.activities import ActivityKind
from server.rewards.rules import EarningRule, RuleValues, ensure_rules, update_rule

__all__ = ["earning_rules", "update_earning_rule"]


async def earning_rules() -> list[EarningRule]:
    """Every kind's earning rule, in the order of the kinds (seeded if missing)."""
    await ensure_rules()
    rows = await EarningRule.all()
    order = list(ActivityKind)
    return sorted(rows, key=lambda r: order.index(r.kind))


async def update_earning_rule(
    principal: Principal,
    *,
    kind: ActivityKind,
    points: int,
    points_per_currency_unit: Decimal | None,
    daily_cap: int | None,
    monthly_cap: int | None,
    target_cap: int | None,
    pending_days: int | None,
    needs_moderation: bool,
    active: bool,
) -> EarningRule:
    """ADMIN: replace a kind's rule (validated); the change is logged with who and when."""
    require(principal, Role.ADMIN)
    values = RuleValues(
        points=points,
        points_per_currency_unit=points_per_currency_unit,
        daily_cap=daily_cap,
        monthly_cap=monthly_cap,
        target_cap=target_cap,
        pending_days=pending_days,
        needs_moderation=needs_moderation,
        active=active,
    )
    return await update_rule(kind, values, principal.actor)
