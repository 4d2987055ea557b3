"""Activities: every earning action (purchase, review, share, referral) as one record."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.rewards.members import Member

__all__ = ["Activity", "ActivityKind", "ActivityStatus"]


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
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "activities"
        indexes = (("member_id", "created_at"),)
