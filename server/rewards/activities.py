"""Activities: every earning action (purchase, review, share, referral) as one record."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.rewards.members import Member

__all__ = ["Activity", "ActivityKind", "ActivityStatus", "PurchasedProduct", "Refund"]


class ActivityKind(StrEnum):
    REVIEW = "REVIEW"
    PHOTO_REVIEW = "PHOTO_REVIEW"
    SOCIAL_SHARE = "SOCIAL_SHARE"
    REFERRAL = "REFERRAL"
    PURCHASE = "PURCHASE"


class ActivityStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REVERSED = "REVERSED"


class Activity(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "laurel.Member", related_name="activities", on_delete=fields.RESTRICT
    )
    member_id: int
    kind = fields.CharEnumField(ActivityKind, max_length=16)
    status = fields.CharEnumField(ActivityStatus, max_length=16)
    # Points the first recording call credited (pending or spendable).
    points_awarded = fields.IntField(default=0)
    # Points this activity has made spendable; 0 while pending or rejected.
    points = fields.IntField(default=0)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    request_hash = fields.CharField(max_length=64)
    # A natural key that may be recorded once whatever the idempotency key,
    # e.g. "purchase:<order id>".
    dedupe_key = fields.CharField(max_length=255, unique=True, null=True)
    payload: dict[str, object] = fields.JSONField(default=dict)
    # What the activity is about, for caps per target: a product id, a URL, a referee.
    target = fields.CharField(max_length=500, null=True)
    # Set when a rule flagged the activity for a moderator (e.g. self-referral signs).
    flag_reason = fields.CharField(max_length=500, null=True)
    decided_by = fields.CharField(max_length=128, null=True)
    decided_at = fields.DatetimeField(null=True)
    decision_reason = fields.CharField(max_length=500, null=True)
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "activities"
        indexes = (("member_id", "created_at"), ("member_id", "kind", "target"), ("status", "kind"))


class PurchasedProduct(Model):
    """A product in a recorded order: what makes a review a verified one."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField(db_index=True)
    product_id = fields.CharField(max_length=128)
    purchase: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "laurel.Activity", related_name="products", on_delete=fields.RESTRICT
    )
    purchase_id: int

    class Meta:
        table = "purchased_products"
        unique_together = (("purchase_id", "product_id"),)
        indexes = (("member_id", "product_id"),)


class Refund(Model):
    """A (partial) refund of a recorded purchase, idempotent by key."""

    id = fields.BigIntField(primary_key=True)
    purchase: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "laurel.Activity", related_name="refunds", on_delete=fields.RESTRICT
    )
    purchase_id: int
    idempotency_key = fields.CharField(max_length=255, unique=True)
    request_hash = fields.CharField(max_length=64)
    amount_cents = fields.BigIntField()
    points_taken = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refunds"
