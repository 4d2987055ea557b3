"""Contests: a window, the kinds of activity that count, rank prizes; frozen standings.

The status is derived from the clock (and the publish, cancel and finalize
marks), never from a job that might not run. A contest's score for a member is
the earned points of its counted activity kinds whose activity happened inside
the window, approved at any time until finalization, reversals included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

from server.rewards.activities import ActivityKind
from server.rewards.errors import Invalid
from server.rewards.holdouts import contest_exclusions
from server.rewards.ledger import LedgerEntry
from server.rewards.text import msg

__all__ = [
    "MAX_PRIZE_RANK",
    "Contest",
    "ContestStatus",
    "Disqualification",
    "Placement",
    "RankPrize",
    "competition_ranks",
    "contest_scores",
    "counts",
    "status_filter",
    "status_of",
    "validate_prizes",
    "validate_window",
]

MAX_PRIZE_RANK = 100
MAX_LENGTH = timedelta(days=366)


class ContestStatus(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    ENDED = "ENDED"
    FINALIZED = "FINALIZED"
    CANCELLED = "CANCELLED"


class Contest(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=120)
    description = fields.CharField(max_length=2000, default="")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    activity_kinds: list[str] = fields.JSONField()
    community = fields.CharField(max_length=64, null=True)
    min_tier_id = fields.IntField(null=True)
    # [{"fromRank": 1, "toRank": 1, "points": 500, "badgeSlug": "contest-winner"}, ...]
    prizes: list[dict[str, Any]] = fields.JSONField(default=list)
    published_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=500, null=True)
    finalized_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contests"


class Disqualification(Model):
    id = fields.BigIntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "laurel.Contest", related_name="disqualifications", on_delete=fields.RESTRICT
    )
    contest_id: int
    member_id = fields.BigIntField()
    reason = fields.CharField(max_length=500)
    decided_by = fields.CharField(max_length=128)
    decided_at = fields.DatetimeField()
    active = fields.BooleanField(default=True)

    class Meta:
        table = "contest_disqualifications"
        unique_together = (("contest_id", "member_id"),)


class Placement(Model):
    """A frozen standing: written once, when the contest is finalized."""

    id = fields.BigIntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "laurel.Contest", related_name="placements", on_delete=fields.RESTRICT
    )
    contest_id: int
    member_id = fields.BigIntField(db_index=True)
    rank = fields.IntField()
    score = fields.IntField()
    points_awarded = fields.IntField(default=0)
    badge_slug = fields.CharField(max_length=48, null=True)

    class Meta:
        table = "contest_placements"
        unique_together = (("contest_id", "member_id"),)


def status_of(contest: Contest, now: datetime) -> ContestStatus:
    if contest.cancelled_at is not None:
        return ContestStatus.CANCELLED
    if contest.finalized_at is not None:
        return ContestStatus.FINALIZED
    if contest.published_at is None:
        return ContestStatus.DRAFT
    if now < contest.starts_at:
        return ContestStatus.SCHEDULED
    if now < contest.ends_at:
        return ContestStatus.RUNNING
    return ContestStatus.ENDED


def status_filter(status: ContestStatus, now: datetime) -> Q:
    """The contests whose ``status_of`` is ``status`` at ``now``, as a query filter."""
    if status is ContestStatus.CANCELLED:
        return Q(cancelled_at__isnull=False)
    live = Q(cancelled_at__isnull=True)
    if status is ContestStatus.FINALIZED:
        return live & Q(finalized_at__isnull=False)
    live &= Q(finalized_at__isnull=True)
    if status is ContestStatus.DRAFT:
        return live & Q(published_at__isnull=True)
    live &= Q(published_at__isnull=False)
    if status is ContestStatus.SCHEDULED:
        return live & Q(starts_at__gt=now)
    if status is ContestStatus.RUNNING:
        return live & Q(starts_at__lte=now, ends_at__gt=now)
    return live & Q(starts_at__lte=now, ends_at__lte=now)


@dataclass(frozen=True, slots=True)
class RankPrize:
    from_rank: int
    to_rank: int
    points: int
    badge_slug: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "fromRank": self.from_rank,
            "toRank": self.to_rank,
            "points": self.points,
            "badgeSlug": self.badge_slug,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> RankPrize:
        return cls(
            int(data["fromRank"]), int(data["toRank"]), int(data["points"]), data.get("badgeSlug")
        )


def validate_prizes(prizes: list[RankPrize]) -> list[RankPrize]:
    """Ranges ascending, not overlapping, 1..MAX_PRIZE_RANK; points 0..1,000,000."""
    previous = 0
    for prize in prizes:
        if not 1 <= prize.from_rank <= prize.to_rank <= MAX_PRIZE_RANK:
            raise Invalid(
                "prizes",
                msg("Each prize needs 1 <= fromRank <= toRank <= {most}.", most=MAX_PRIZE_RANK),
            )
        if prize.from_rank <= previous:
            raise Invalid("prizes", msg("Prize ranges must be ascending and must not overlap."))
        if not 0 <= prize.points <= 1_000_000:
            raise Invalid("prizes", msg("A prize's points must be between 0 and 1,000,000."))
        if prize.points == 0 and not prize.badge_slug:
            raise Invalid("prizes", msg("A prize needs points, a badge, or both."))
        previous = prize.to_rank
    return prizes


def validate_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("endsAt", msg("endsAt must be after startsAt."))
    if ends_at - starts_at > MAX_LENGTH:
        raise Invalid("endsAt", msg("A contest lasts at most a year."))
    if ends_at <= now:
        raise Invalid("endsAt", msg("endsAt must be in the future."))


def competition_ranks(scores: dict[int, int]) -> list[tuple[int, int, int]]:
    """(rank, member, score), best first: equal scores share a rank, the next skips."""
    ordered = sorted(((s, m) for m, s in scores.items() if s > 0), key=lambda p: (-p[0], p[1]))
    out: list[tuple[int, int, int]] = []
    for i, (score, member) in enumerate(ordered):
        rank = out[-1][0] if out and out[-1][2] == score else i + 1
        out.append((rank, member, score))
    return out


async def contest_scores(contest: Contest) -> dict[int, int]:
    """Every member's score from SQL (the truth the Redis board is derived from)."""
    entries = LedgerEntry.filter(
        activity__kind__in=[ActivityKind(k) for k in contest.activity_kinds],
        activity__occurred_at__gte=contest.starts_at,
        activity__occurred_at__lt=contest.ends_at,
    ).exclude(lifetime_delta=0)
    if contest.community is not None:
        entries = entries.filter(member__community=contest.community)
    out: dict[int, int] = {}
    for member_id, delta in await entries.values_list("member_id", "lifetime_delta"):
        out[int(member_id)] = out.get(int(member_id), 0) + int(delta)
    banned = await Disqualification.filter(contest_id=contest.id, active=True).values_list(
        "member_id", flat=True
    )
    for banned_id in banned:
        out.pop(int(str(banned_id)), None)
    for _, held_out in await contest_exclusions([(contest.id, contest.ends_at)], out):
        out.pop(held_out)  # an experiment holds them out of this contest
    return out


def counts(contest: Contest, kind: str, occurred_at: datetime, community: str | None) -> bool:
    """Whether an activity's points go to this contest's board."""
    return (
        kind in contest.activity_kinds
        and contest.starts_at <= occurred_at < contest.ends_at
        and (contest.community is None or contest.community == community)
    )
