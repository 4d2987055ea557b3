"""What a member holds: the badge levels held and the progress towards the next ones.

Reads only; ``badges.granter`` is what grants and revokes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from badges.metrics import metric_values
from badges.models import BadgeAward, BadgeDefinition
from badges.spec import Metric

__all__ = ["Grant", "Progress", "grants_of_activity", "held_badges", "progress"]


@dataclass(frozen=True, slots=True)
class Grant:
    """One level of one badge, as granted (or revoked) to a member."""

    award: BadgeAward
    badge: BadgeDefinition

    @property
    def level(self) -> int:
        return int(self.award.level)


@dataclass(frozen=True, slots=True)
class Progress:
    badge: BadgeDefinition
    value: int
    level: int  # held now; 0 for none

    @property
    def next_threshold(self) -> int | None:
        levels = self.badge.thresholds
        return levels[self.level] if self.level < len(levels) else None

    @property
    def percent(self) -> int:
        """Towards the next level, 100 when every level is held."""
        goal = self.next_threshold
        return 100 if goal is None else min(99, self.value * 100 // goal)


async def held_badges(member_ids: Sequence[int]) -> dict[int, list[Grant]]:
    """Per member, the highest level held of each badge, in catalog order."""
    rows = (
        await BadgeAward.filter(member_id__in=list(member_ids), revoked_at__isnull=True)
        .prefetch_related("badge")
        .order_by("badge_id", "-level")
    )
    out: dict[int, list[Grant]] = {pk: [] for pk in member_ids}
    seen: set[tuple[int, int]] = set()
    for row in rows:
        if (row.member_id, row.badge_id) not in seen:
            seen.add((row.member_id, row.badge_id))
            out[row.member_id].append(Grant(row, row.badge))
    return out


async def grants_of_activity(activity_id: int) -> list[Grant]:
    """The levels granted when this activity was recorded or decided (for a retried call)."""
    rows = await BadgeAward.filter(activity_id=activity_id).prefetch_related("badge").order_by("id")
    return [Grant(row, row.badge) for row in rows]


async def progress(member_id: int) -> list[Progress]:
    """Every enabled badge: the member's current value and level held."""
    badges = await BadgeDefinition.filter(enabled=True).order_by("id")
    values = await metric_values(member_id, {Metric(b.metric) for b in badges})
    held = {g.badge.id: g.level for g in (await held_badges([member_id]))[member_id]}
    return [
        Progress(badge=b, value=values[Metric(b.metric)], level=held.get(b.id, 0)) for b in badges
    ]
