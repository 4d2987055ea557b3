"""Members: a shop's customers as the community knows them.

The point columns are a cache of the ledger, changed only by
``posting.post`` in the transaction that appends the entry.
"""

from __future__ import annotations

import secrets

from tortoise import fields
from tortoise.models import Model

__all__ = ["REFERRAL_ALPHABET", "Member", "new_referral_code"]

# No 0/O/1/I: codes are read aloud and typed from screenshots.
REFERRAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_referral_code(length: int = 8) -> str:
    """An unguessable, readable referral code."""
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(length))


class Member(Model):
    id = fields.BigIntField(primary_key=True)
    external_id = fields.CharField(max_length=128, unique=True)
    display_name = fields.CharField(max_length=80)
    email = fields.CharField(max_length=254, null=True)
    community = fields.CharField(max_length=64, null=True, db_index=True)
    referral_code = fields.CharField(max_length=16, unique=True)
    points_balance = fields.IntField(default=0)
    pending_points = fields.IntField(default=0)
    lifetime_points = fields.IntField(default=0)
    # The tier last seen for this member (kept to record changes; reads compute it afresh).
    tier_id = fields.IntField(null=True)
    # Points owed after a reversal the balance could not cover.
    debt_points = fields.IntField(default=0, db_default=0)
    # Earliest moment a pending credit becomes spendable; lets reads release
    # due points without scanning the ledger on every request.
    next_release_at = fields.DatetimeField(null=True, db_index=True)
    # Earliest moment spendable points expire; lets reads expire without a scan.
    next_expiry_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "members"
