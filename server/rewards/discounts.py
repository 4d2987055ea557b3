"""Points as money at checkout: a shopper turns points into a discount code for the
shop, at a rate the admin sets (one row: points per 1.00, the least and most points
one code may take, and the step between amounts)."""

from __future__ import annotations

import contextlib

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from server.rewards.errors import Invalid
from server.rewards.text import msg, msg_n

__all__ = ["DiscountCode", "DiscountRule", "discount_rule", "discount_value_cents"]


class DiscountRule(Model):
    id = fields.IntField(primary_key=True)  # always 1
    points_per_currency_unit = fields.IntField(default=100)  # points for 1.00 off
    min_points = fields.IntField(default=500)
    max_points = fields.IntField(default=5_000)
    step_points = fields.IntField(default=100)
    enabled = fields.BooleanField(default=True)
    updated_by = fields.CharField(max_length=120, default="defaults")

    class Meta:
        table = "discount_rules"


class DiscountCode(Model):
    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField(db_index=True)
    points = fields.IntField()
    value_cents = fields.IntField()
    code = fields.CharField(max_length=32, unique=True)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    request_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "discount_codes"


async def discount_rule() -> DiscountRule:
    """The rule (the defaults until an admin changes them)."""
    row = await DiscountRule.get_or_none(id=1)
    if row is None:
        with contextlib.suppress(IntegrityError):  # made concurrently by another request
            await DiscountRule.create(id=1)
        row = await DiscountRule.get(id=1)
    return row


def discount_value_cents(rule: DiscountRule, points: int) -> int:
    """What ``points`` take off an order, in cents; ``Invalid`` outside the rule."""
    if not rule.enabled:
        raise Invalid("points", msg("Points cannot be turned into a discount at the moment."))
    if not rule.min_points <= points <= rule.max_points:
        raise Invalid(
            "points",
            msg_n(
                "Choose {least:,} to {most:,} points.",
                "Choose {least:,} to {most:,} points.",
                rule.max_points,
                least=rule.min_points,
                most=rule.max_points,
            ),
        )
    if (points - rule.min_points) % rule.step_points:
        raise Invalid(
            "points", msg("Choose a number of points in steps of {step:,}.", step=rule.step_points)
        )
    return points * 100 // rule.points_per_currency_unit
