"""Badge tables: definitions as data, one award row per member, badge and level.

``BadgeAward`` is unique on (member, badge, level): a level is granted at most
once, whatever runs concurrently. A revoked level keeps its row (with who,
when and why) and may be granted again only if the criterion revoked it; the
``generation`` counter keys each grant's bonus and each revocation's reversal
in the ledger, so every one of them happens exactly once.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.rewards.snapshots import Snapshot

__all__ = [
    "AUTOMATIC",
    "BadgeAssertion",
    "BadgeAward",
    "BadgeChange",
    "BadgeDefinition",
    "enabled_badges",
]

# ``revoked_by`` of a level the criterion took away (it comes back when the criterion holds again).
AUTOMATIC = "criterion"


class BadgeDefinition(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=48, unique=True)
    name = fields.CharField(max_length=60)
    description = fields.CharField(max_length=300)
    metric = fields.CharField(max_length=32)
    # Thresholds of each level, lowest first, and the points each level grants.
    thresholds: list[int] = fields.JSONField()
    bonus_points: list[int] = fields.JSONField()
    revocable = fields.BooleanField(default=False)
    # Shape, glyph and colours of the image; ``art_version`` changes with them.
    art: dict[str, Any] = fields.JSONField()
    art_version = fields.IntField(default=1)
    enabled = fields.BooleanField(default=True)
    updated_by = fields.CharField(max_length=128, default="defaults")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "badge_definitions"


class BadgeChange(Model):
    """Who changed a badge definition, when, and what."""

    id = fields.BigIntField(primary_key=True)
    slug = fields.CharField(max_length=48)
    actor = fields.CharField(max_length=128)
    changes: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "badge_changes"


class BadgeAward(Model):
    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    badge: fields.ForeignKeyRelation[BadgeDefinition] = fields.ForeignKeyField(
        "laurel.BadgeDefinition", related_name="awards", on_delete=fields.RESTRICT
    )
    badge_id: int
    level = fields.SmallIntField()
    # Bumped by each grant after a revocation: keys the ledger entries of this grant.
    generation = fields.IntField(default=1)
    bonus_points = fields.IntField(default=0)
    awarded_at = fields.DatetimeField()
    # The activity whose recording granted it, to answer a retried mutation the same way.
    activity_id = fields.BigIntField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.CharField(max_length=128, null=True)
    revoked_reason = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "badge_awards"
        unique_together = (("member_id", "badge_id", "level"),)
        indexes = (("member_id", "revoked_at"), ("activity_id",))

    @property
    def held(self) -> bool:
        return self.revoked_at is None


class BadgeAssertion(Model):
    """An exported Open Badges assertion of one grant, its token the public id."""

    token = fields.CharField(max_length=40, primary_key=True)
    award: fields.ForeignKeyRelation[BadgeAward] = fields.ForeignKeyField(
        "laurel.BadgeAward", related_name="assertions", on_delete=fields.RESTRICT
    )
    award_id: int
    generation = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "badge_assertions"
        unique_together = (("award_id", "generation"),)


async def _enabled() -> list[BadgeDefinition]:
    return await BadgeDefinition.filter(enabled=True).order_by("id")


_ENABLED = Snapshot(_enabled)


async def enabled_badges() -> list[BadgeDefinition]:
    """The enabled badges, oldest first, as the granter reads them: a shared snapshot
    (``server.rewards.snapshots``), read it only."""
    return await _ENABLED.get()
