"""Holdout experiments: a share of the members does not get one part of the program
(an earning rule, a badge, the tier multiplier, a contest) while the experiment runs, so
the owner can measure what that part adds (README, "Experiments").

Who is held out is a pure function of the member id and the experiment's salt
(``arm_of``): nothing is stored per member, and every worker, before and after a
restart, puts a member in the same arm. The salt is random per experiment, so two
experiments hold out different members; it is made at creation and never changed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.rewards.errors import Invalid
from server.rewards.text import msg
from server.rewards.validation import clean_text

__all__ = [
    "MAX_HOLDOUT_PERCENT",
    "MIN_HOLDOUT_PERCENT",
    "Arm",
    "Experiment",
    "TargetKind",
    "arm_of",
    "live_key",
    "new_salt",
    "running_at",
    "validate_name",
    "validate_percent",
]

MIN_HOLDOUT_PERCENT = 1
MAX_HOLDOUT_PERCENT = 90
_BUCKETS = 10_000  # a member's bucket is 0..9999; holdout_percent * 100 of them are held out


class TargetKind(StrEnum):
    EARNING_RULE = "EARNING_RULE"  # ref: the activity kind (REVIEW, PURCHASE, ...)
    BADGE = "BADGE"  # ref: the badge slug
    TIER_MULTIPLIER = "TIER_MULTIPLIER"  # ref: ""
    CONTEST = "CONTEST"  # ref: the contest id


class Arm(StrEnum):
    TREATMENT = "TREATMENT"
    HOLDOUT = "HOLDOUT"


class Experiment(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=80, unique=True)
    target_kind = fields.CharEnumField(TargetKind, max_length=16)
    target_ref = fields.CharField(max_length=64, default="")
    holdout_percent = fields.IntField()
    salt = fields.CharField(max_length=32)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=128)
    ended_by = fields.CharField(max_length=128, null=True)
    # "KIND:ref" while running, null once ended: one running experiment per target is a
    # unique key in the database, not a check-then-insert.
    live_target = fields.CharField(max_length=96, null=True, unique=True)

    class Meta:
        table = "experiments"


def arm_of(member_id: int, salt: str, holdout_percent: int) -> Arm:
    """The member's arm: the first 8 bytes of sha256("salt:member_id") as an integer,
    mod 10,000, below ``holdout_percent`` x 100 is the holdout."""
    digest = hashlib.sha256(f"{salt}:{member_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % _BUCKETS
    return Arm.HOLDOUT if bucket < holdout_percent * 100 else Arm.TREATMENT


def new_salt() -> str:
    """16 random bytes as hex: an experiment's salt."""
    return secrets.token_hex(16)


def live_key(kind: TargetKind, ref: str) -> str:
    return f"{kind.value}:{ref}"


def running_at(experiment: Experiment, now: datetime) -> bool:
    """Started at or before ``now`` and not ended by then."""
    return experiment.started_at <= now and (
        experiment.ended_at is None or now < experiment.ended_at
    )


def validate_name(name: str) -> str:
    return clean_text("name", name, max_length=80, display=True)


def validate_percent(percent: int) -> int:
    if not MIN_HOLDOUT_PERCENT <= percent <= MAX_HOLDOUT_PERCENT:
        raise Invalid(
            "holdoutPercent",
            msg(
                "holdoutPercent must be between {low} and {high}.",
                low=MIN_HOLDOUT_PERCENT,
                high=MAX_HOLDOUT_PERCENT,
            ),
        )
    return percent
