"""Earning rules as data: what each kind of activity earns, its caps and its checks.

One row per activity kind, seeded with the defaults below and changed at run
time by admins (``update_rule``); every change is kept in ``RuleChange`` with
who and when.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from server.rewards import snapshots
from server.rewards.activities import ActivityKind
from server.rewards.errors import Invalid
from server.rewards.snapshots import Snapshot
from server.rewards.text import msg

__all__ = [
    "DEFAULT_RULES",
    "EarningRule",
    "RuleChange",
    "RuleValues",
    "ensure_rules",
    "rule_for",
    "update_rule",
    "validate",
    "values_of",
]


class EarningRule(Model):
    kind = fields.CharEnumField(ActivityKind, max_length=16, primary_key=True)
    # Fixed points per activity (reviews, shares, referrals).
    points = fields.IntField(default=0)
    # Points per 1.00 of order value (purchases); null: the LAUREL_POINTS_PER_CURRENCY_UNIT setting.
    points_per_currency_unit = fields.DecimalField(max_digits=12, decimal_places=4, null=True)
    # Most activities of this kind a member may record per UTC day / calendar month; null: no cap.
    daily_cap = fields.IntField(null=True)
    monthly_cap = fields.IntField(null=True)
    # Most activities of this kind per member and target (product, URL); null: no cap.
    target_cap = fields.IntField(null=True)
    # Days before points become spendable; null for purchases: LAUREL_PURCHASE_PENDING_DAYS.
    pending_days = fields.IntField(null=True)
    needs_moderation = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)
    updated_by = fields.CharField(max_length=128, default="defaults")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "earning_rules"


class RuleChange(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ActivityKind, max_length=16)
    actor = fields.CharField(max_length=128)
    changes: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "earning_rule_changes"


@dataclass(frozen=True, slots=True)
class RuleValues:
    points: int = 0
    points_per_currency_unit: Decimal | None = None
    daily_cap: int | None = None
    monthly_cap: int | None = None
    target_cap: int | None = None
    pending_days: int | None = None
    needs_moderation: bool = False
    active: bool = True


DEFAULT_RULES: dict[ActivityKind, RuleValues] = {
    ActivityKind.PURCHASE: RuleValues(),  # rate and return window come from settings
    ActivityKind.REVIEW: RuleValues(
        points=20, daily_cap=5, target_cap=1, pending_days=0, needs_moderation=True
    ),
    ActivityKind.PHOTO_REVIEW: RuleValues(
        points=40, daily_cap=5, target_cap=1, pending_days=0, needs_moderation=True
    ),
    ActivityKind.SOCIAL_SHARE: RuleValues(points=5, daily_cap=3, target_cap=1, pending_days=0),
    ActivityKind.REFERRAL: RuleValues(points=100, monthly_cap=10, target_cap=1, pending_days=0),
}

_LIMITS = {
    "points": (0, 100_000),
    "daily_cap": (1, 1_000),
    "monthly_cap": (1, 10_000),
    "target_cap": (1, 1_000),
    "pending_days": (0, 365),
}
_CLIENT_NAMES = {
    "points": "points",
    "points_per_currency_unit": "pointsPerCurrencyUnit",
    "daily_cap": "dailyCap",
    "monthly_cap": "monthlyCap",
    "target_cap": "targetCap",
    "pending_days": "pendingDays",
}


def validate(kind: ActivityKind, values: RuleValues) -> RuleValues:
    """Raise ``Invalid`` naming the field when a value is out of bounds."""
    for name, (low, high) in _LIMITS.items():
        value = getattr(values, name)
        if value is not None and not low <= value <= high:
            field = _CLIENT_NAMES[name]
            raise Invalid(
                field,
                msg("{field} must be between {low} and {high}.", field=field, low=low, high=high),
            )
    rate = values.points_per_currency_unit
    if rate is not None:
        if kind is not ActivityKind.PURCHASE:
            raise Invalid("pointsPerCurrencyUnit", msg("Only purchases earn per currency unit."))
        if not Decimal(0) <= rate <= Decimal(10_000):
            raise Invalid("pointsPerCurrencyUnit", msg("pointsPerCurrencyUnit must be 0 to 10000."))
    if kind is ActivityKind.PURCHASE and values.needs_moderation:
        raise Invalid("needsModeration", msg("Purchases are reported by the shop, not moderated."))
    return values


async def ensure_rules() -> None:
    """Insert the default rule of every kind that has none (existing rules are kept)."""
    for kind, values in DEFAULT_RULES.items():
        if await EarningRule.exists(kind=kind):
            continue
        with contextlib.suppress(IntegrityError):  # seeded concurrently by another process
            await EarningRule.create(kind=kind, **_as_columns(values))
    snapshots.changed()


async def _rules_by_kind() -> dict[ActivityKind, EarningRule]:
    return {ActivityKind(r.kind): r for r in await EarningRule.all()}


_RULES = Snapshot(_rules_by_kind)


async def rule_for(kind: ActivityKind) -> EarningRule:
    """The rule an earning of ``kind`` follows now (a shared snapshot: read it only)."""
    rule = (await _RULES.get()).get(kind)
    if rule is None:
        await ensure_rules()
        rule = (await _RULES.get())[kind]
    return rule


def values_of(rule: EarningRule) -> RuleValues:
    return RuleValues(
        points=rule.points,
        points_per_currency_unit=rule.points_per_currency_unit,
        daily_cap=rule.daily_cap,
        monthly_cap=rule.monthly_cap,
        target_cap=rule.target_cap,
        pending_days=rule.pending_days,
        needs_moderation=rule.needs_moderation,
        active=rule.active,
    )


def _as_columns(values: RuleValues) -> dict[str, Any]:
    return {name: getattr(values, name) for name in RuleValues.__slots__}


async def update_rule(kind: ActivityKind, values: RuleValues, actor: str) -> EarningRule:
    """Validate and store a rule; log what changed, by whom."""
    validate(kind, values)
    await rule_for(kind)  # seeds the defaults if need be
    rule = await EarningRule.get(kind=kind)
    before = _as_columns(values_of(rule))
    after = _as_columns(values)
    changed = {k: [str(before[k]), str(after[k])] for k in after if before[k] != after[k]}
    if changed:
        await EarningRule.filter(kind=kind).update(updated_by=actor, **after)
        await RuleChange.create(kind=kind, actor=actor, changes=changed)
        await rule.refresh_from_db()
        snapshots.changed()
    return rule
