"""The figures of a backtest: each side's totals, tiers and badge levels, the members
who move between tiers, the top of the board with rank changes, and how much each
member's points change (README, "Try a rule before it goes live")."""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from server.actions.services import Services
from server.rewards.backtest import Outcome, Rules
from server.rewards.members import Member

__all__ = ["RankChange", "Side", "Simulation", "Spread", "compare"]

TOP = 100


@dataclass(frozen=True, slots=True)
class Side:
    """One set of rules' figures over the range (README, Program metrics, for the terms)."""

    points_issued: int
    by_kind: dict[str, int]
    points_reversed: int
    points_expired: int
    points_outstanding: int
    liability_cents: int
    tiers: list[tuple[str, int]]  # members per tier at the end, lowest first
    badge_levels: list[tuple[str, int, int]]  # (slug, level, times granted)


@dataclass(frozen=True, slots=True)
class RankChange:
    member_id: int
    external_id: str
    display_name: str
    current_rank: int | None  # None: no points earned in the range under the current rules
    draft_rank: int
    current_points: int
    draft_points: int


@dataclass(frozen=True, slots=True)
class Spread:
    """The distribution of (draft - current) points earned, over the members who earned
    under either."""

    members: int
    minimum: int
    lower_quartile: float
    median: float
    upper_quartile: float
    maximum: int


@dataclass(frozen=True, slots=True)
class Simulation:
    start: datetime
    end: datetime
    events: int
    current: Side
    draft: Side
    moved_up: int
    moved_down: int
    top: list[RankChange]
    changes: Spread


def _side(
    svc: Services, rules: Rules, out: Outcome, recorded: Mapping[tuple[str, int], int]
) -> Side:
    counts = [0] * len(rules.ladder)
    for index in out.tier_of.values():
        counts[max(index, 0)] += 1
    levels = {k: n for k, n in recorded.items() if k[0] not in rules.badges}
    for slug in rules.badges:
        for level in range(1, len(rules.badges[slug].thresholds) + 1):
            levels[(slug, level)] = out.levels_granted.get((slug, level), 0)
    liability = Decimal(out.outstanding) * svc.point_value_cents
    return Side(
        points_issued=out.issued,
        by_kind={k: v for k, v in sorted(out.issued_by_kind.items()) if v},
        points_reversed=out.reversed,
        points_expired=out.expired,
        points_outstanding=out.outstanding,
        liability_cents=int(liability.to_integral_value(rounding=ROUND_HALF_UP)),
        tiers=[(t.name, n) for t, n in zip(rules.ladder, counts, strict=True)],
        badge_levels=[(s, lv, n) for (s, lv), n in sorted(levels.items())],
    )


def _ranks(scores: Mapping[int, int]) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4) of the members with points: 1 + those above."""
    ordered = sorted(-s for s in scores.values() if s > 0)
    return {m: bisect.bisect_left(ordered, -s) + 1 for m, s in scores.items() if s > 0}


def _spread(changes: Sequence[int]) -> Spread:
    if not changes:
        return Spread(0, 0, 0.0, 0.0, 0.0, 0)
    if len(changes) == 1:
        only = changes[0]
        return Spread(1, only, float(only), float(only), float(only), only)
    q1, q2, q3 = statistics.quantiles(changes, n=4, method="inclusive")
    return Spread(len(changes), min(changes), q1, q2, q3, max(changes))


async def compare(
    svc: Services,
    start: datetime,
    end: datetime,
    rules: tuple[Rules, Rules],
    outcomes: Sequence[Outcome],
    events: int,
    recorded: Mapping[tuple[str, int], int],
) -> Simulation:
    now, draft = outcomes
    up = sum(1 for m, i in draft.tier_of.items() if i > now.tier_of.get(m, -1))
    down = sum(1 for m, i in draft.tier_of.items() if i < now.tier_of.get(m, -1))
    before, after = _ranks(now.earned), _ranks(draft.earned)
    best = sorted(after, key=lambda m: (after[m], m))[:TOP]
    people = {
        int(i): (str(e), str(n))
        for i, e, n in await Member.filter(id__in=best).values_list(
            "id", "external_id", "display_name"
        )
    }
    top = [
        RankChange(
            member_id=m,
            external_id=people.get(m, ("", ""))[0],
            display_name=people.get(m, ("", ""))[1],
            current_rank=before.get(m),
            draft_rank=after[m],
            current_points=now.earned.get(m, 0),
            draft_points=draft.earned.get(m, 0),
        )
        for m in best
    ]
    moved = [
        draft.earned.get(m, 0) - now.earned.get(m, 0)
        for m in set(now.earned) | set(draft.earned)
        if now.earned.get(m, 0) or draft.earned.get(m, 0)
    ]
    return Simulation(
        start=start,
        end=end,
        events=events,
        current=_side(svc, rules[0], now, recorded),
        draft=_side(svc, rules[1], draft, recorded),
        moved_up=up,
        moved_down=down,
        top=top,
        changes=_spread(sorted(moved)),
    )
