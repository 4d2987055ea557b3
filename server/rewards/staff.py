"""API keys of the shop's backend and its staff. Only a hash of each key is stored."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

__all__ = ["ApiKey", "StaffRole"]


class StaffRole(StrEnum):
    SERVICE = "SERVICE"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class ApiKey(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(StaffRole, max_length=16)
    # The public part of the key, for lookup; the secret is only hashed.
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64)
    # Keys given the same scope share idempotency keys (e.g. the old and the new key of a
    # shop backend during a rotation); unset, each key has its own (docs/decisions/0022).
    idempotency_scope = fields.CharField(max_length=64, null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_keys"
