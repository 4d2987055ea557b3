"""Enforcing holdout experiments where the program pays (README, "Experiments").

The running experiments are a snapshot (``server.rewards.snapshots``, at most a second
old on another worker; ``snapshots.changed()`` after a create or an end). A member is
held out of a target while an experiment on it runs and ``arm_of`` says HOLDOUT:

- an earning rule (``rule_points``): the activity is recorded, it earns 0 points;
- the tier multiplier (``multiplier_tier``): the member keeps the tier, earns at x1;
- a badge (``held_out`` with BADGE, in the granter): no level of it, so no bonus;
- a contest (``contest_exclusions``): off its board and results, so no prize. A contest
  is judged at its end: an experiment that started before the contest ended and had
  not ended by then holds its members out of the final standings, however late the
  contest is finalized.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from server.rewards.activities import ActivityKind
from server.rewards.experiments import Arm, Experiment, TargetKind, arm_of, running_at
from server.rewards.snapshots import Snapshot

__all__ = [
    "contest_exclusions",
    "held_out",
    "holdouts_of",
    "multiplier_tier",
    "rule_points",
    "running",
]

T = TypeVar("T")


async def _not_ended() -> list[Experiment]:
    return await Experiment.filter(ended_at__isnull=True).order_by("id")


_RUNNING = Snapshot(_not_ended)


def _holds_out(experiment: Experiment, member_id: int) -> bool:
    return arm_of(member_id, experiment.salt, experiment.holdout_percent) is Arm.HOLDOUT


async def running(now: datetime) -> list[Experiment]:
    """The experiments running at ``now``, oldest first (a shared snapshot: read only)."""
    return [e for e in await _RUNNING.get() if running_at(e, now)]


async def held_out(member_id: int, kind: TargetKind, ref: str, now: datetime) -> bool:
    """Whether the member does not get this target now."""
    return any(
        e.target_kind == kind and e.target_ref == ref and _holds_out(e, member_id)
        for e in await running(now)
    )


async def holdouts_of(member_id: int, now: datetime) -> list[tuple[TargetKind, str]]:
    """What the member does not get now: (kind, ref) of each experiment holding them out."""
    return [
        (TargetKind(e.target_kind), e.target_ref)
        for e in await running(now)
        if _holds_out(e, member_id)
    ]


async def multiplier_tier(member_id: int, tier: T | None, now: datetime) -> T | None:
    """The tier whose multiplier an earning gets: none (x1) for a member held out of the
    tier multiplier, who still holds ``tier``."""
    if tier is None or not await held_out(member_id, TargetKind.TIER_MULTIPLIER, "", now):
        return tier
    return None


async def rule_points(member_id: int, kind: ActivityKind, points: int, now: datetime) -> int:
    """What an activity of ``kind`` earns the member: 0 when held out of its rule."""
    if points and await held_out(member_id, TargetKind.EARNING_RULE, kind.value, now):
        return 0
    return points


async def contest_exclusions(
    contests: Iterable[tuple[int, datetime]], member_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """(contest id, member id) of each of ``member_ids`` held out of one of ``contests``
    (given as (id, ends_at)): by an experiment on it running at the contest's end."""
    ends = {str(pk): ends_at for pk, ends_at in contests}
    if not ends:
        return set()
    found = await Experiment.filter(target_kind=TargetKind.CONTEST, target_ref__in=list(ends))
    judged = [e for e in found if _at_end(e, ends[e.target_ref])]
    if not judged:
        return set()
    return {(int(e.target_ref), m) for e in judged for m in set(member_ids) if _holds_out(e, m)}


def _at_end(experiment: Experiment, ends_at: datetime) -> bool:
    """Running at the contest's end: started before it, not ended before it."""
    return experiment.started_at < ends_at and (
        experiment.ended_at is None or experiment.ended_at >= ends_at
    )
