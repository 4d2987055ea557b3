"""Prizes, their code pools and redemptions.

A prize's ``stock_left`` only moves by conditional UPDATEs (never below 0) in
the redemption's transaction; a pool code is claimed with a row lock that
skips codes locked by concurrent redemptions (PostgreSQL ``SKIP LOCKED``).
Generated codes are unguessable (60 random bits) and readable: no 0, O, 1 or I.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

__all__ = [
    "CODE_ALPHABET",
    "Prize",
    "PrizeCode",
    "PrizeImage",
    "PrizeKind",
    "Redemption",
    "RedemptionStatus",
    "available_at",
    "new_code",
    "redeemable",
]

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_code() -> str:
    """Like ``7KQ4-M2XP-9HDA``: 12 characters of 32, 60 bits."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class PrizeKind(StrEnum):
    DISCOUNT_CODE = "DISCOUNT_CODE"
    GIFT_CARD = "GIFT_CARD"
    PHYSICAL = "PHYSICAL"
    DIGITAL = "DIGITAL"


class Prize(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=120)
    description = fields.CharField(max_length=1000, default="")
    kind = fields.CharEnumField(PrizeKind, max_length=16, default=PrizeKind.DISCOUNT_CODE)
    cost = fields.IntField()
    # Null: unlimited. ``stock`` is what was ever made available, ``stock_left`` what remains.
    stock = fields.IntField(null=True)
    stock_left = fields.IntField(null=True)
    per_member_limit = fields.IntField(null=True)
    min_tier_id = fields.IntField(null=True)
    available_from = fields.DatetimeField(null=True)
    available_until = fields.DatetimeField(null=True)
    # Codes come from the pool (loaded with `laurel load-codes`) instead of being generated.
    uses_pool = fields.BooleanField(default=False)
    # A hash of the picture in ``prize_images``, in its URL (a new picture is a new URL);
    # null: no picture.
    image_version = fields.CharField(max_length=16, null=True)
    archived = fields.BooleanField(default=False)
    updated_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "prizes"


def available_at(now: datetime) -> Q:
    """The prizes that can be redeemed at ``now``: not archived, inside their window."""
    return (
        Q(archived=False)
        & (Q(available_from__isnull=True) | Q(available_from__lte=now))
        & (Q(available_until__isnull=True) | Q(available_until__gt=now))
    )


def redeemable(prize: Prize, now: datetime) -> bool:
    """Whether ``prize`` (as read) can be redeemed at ``now``: ``available_at`` in Python."""
    return (
        not prize.archived
        and (prize.available_from is None or prize.available_from <= now)
        and (prize.available_until is None or prize.available_until > now)
    )


class PrizeCode(Model):
    """A pre-loaded code (a gift card number, a shop discount code), used at most once."""

    id = fields.BigIntField(primary_key=True)
    prize: fields.ForeignKeyRelation[Prize] = fields.ForeignKeyField(
        "laurel.Prize", related_name="codes", on_delete=fields.RESTRICT
    )
    prize_id: int
    code = fields.CharField(max_length=64)
    redemption_id = fields.BigIntField(null=True)

    class Meta:
        table = "prize_codes"
        unique_together = (("prize_id", "code"),)
        indexes = (("prize_id", "redemption_id"),)


class PrizeImage(Model):
    """A prize's picture, drawn again from the upload.

    A PNG of at most 512 px a side with nothing of the uploaded file but its pixels
    (``server.rewards.pictures``); apart from ``prizes`` so that listing prizes never
    reads the bytes.
    """

    id = fields.BigIntField(primary_key=True)
    prize: fields.OneToOneRelation[Prize] = fields.OneToOneField(
        "laurel.Prize", related_name="image", on_delete=fields.CASCADE
    )
    prize_id: int
    png = fields.BinaryField()
    width = fields.IntField()
    height = fields.IntField()
    updated_by = fields.CharField(max_length=128)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "prize_images"


class RedemptionStatus(StrEnum):
    RESERVED = "RESERVED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


class Redemption(Model):
    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField(db_index=True)
    prize: fields.ForeignKeyRelation[Prize] = fields.ForeignKeyField(
        "laurel.Prize", related_name="redemptions", on_delete=fields.RESTRICT
    )
    prize_id: int
    cost = fields.IntField()
    code = fields.CharField(max_length=64)
    status = fields.CharEnumField(RedemptionStatus, max_length=16)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    request_hash = fields.CharField(max_length=64)
    decided_by = fields.CharField(max_length=128, null=True)
    decided_at = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "redemptions"
        unique_together = (("prize_id", "code"),)
        indexes = (("member_id", "prize_id", "status"),)
