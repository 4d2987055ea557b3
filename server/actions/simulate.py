"""``simulateProgram``: what the range would have looked like under draft rules, beside
what the current rules give on the same replay (``server.rewards.backtest``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tortoise.functions import Count

from badges.models import BadgeAward, BadgeDefinition
from server.actions.common import require
from server.actions.services import Services
from server.actions.simulate_figures import Simulation, compare
from server.actions.tiers import tier_ladder, tier_values
from server.auth import Principal, Role
from server.rewards.activities import ActivityKind
from server.rewards.backtest import LIFETIME, BadgeRule, Replay, Rules
from server.rewards.backtest_load import COUNTED, load
from server.rewards.backtest_state import Holdout
from server.rewards.errors import Invalid
from server.rewards.experiments import Experiment
from server.rewards.rules import EarningRule, RuleValues, ensure_rules, validate, values_of
from server.rewards.text import msg
from server.rewards.tiers import TierValues, TierWindow, validate_tiers

__all__ = ["BadgeDraft", "RuleDraft", "SimulationDraft", "simulate_program"]

_MOST_DAYS = 366 * 3
# Events replayed between two turns of the event loop: a year's replay runs for tens of
# seconds in the worker, which meanwhile keeps answering (about 0.1 s a slice).
_SLICE = 5_000


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """An earning rule's proposed values; None keeps the current one."""

    kind: ActivityKind
    points: int | None = None
    points_per_currency_unit: Decimal | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class BadgeDraft:
    slug: str
    thresholds: tuple[int, ...]
    bonus_points: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SimulationDraft:
    start: datetime
    end: datetime
    rules: Sequence[RuleDraft] = ()
    tiers: Sequence[TierValues] | None = None
    points_expire_days: int | None = None
    badges: Sequence[BadgeDraft] = ()


async def simulate_program(
    svc: Services, principal: Principal, draft: SimulationDraft
) -> Simulation:
    """ADMIN: replay [start, end) under the current rules and under ``draft``, side by
    side. Reads the ledger, writes nothing."""
    require(principal, Role.ADMIN)
    start, end = draft.start.astimezone(UTC), draft.end.astimezone(UTC)
    if end <= start:
        raise Invalid("to", msg("The end of the range must be after its start."))
    if end - start > timedelta(days=_MOST_DAYS):
        raise Invalid("to", msg("A backtest covers at most 3 years."))
    if svc.tier_window is not TierWindow.ROLLING:
        raise Invalid("tiers", msg("Backtests replay tiers of the rolling 365-day window only."))
    current = await _current(svc)
    definitions = {b.slug: b for b in await BadgeDefinition.all()}
    badge_current, badge_draft = _badges(draft.badges, definitions)
    current = replace(current, badges=badge_current, tier_bonuses=draft.tiers is not None)
    proposed = replace(
        current,
        earning=_earning(current.earning, draft.rules),
        ladder=current.ladder if draft.tiers is None else _ladder(draft.tiers),
        keep_days=current.keep_days if draft.points_expire_days is None else _days(draft),
        badges=badge_draft,
    )
    # Recorded bonuses are dropped only for the badges the replay grants itself.
    slugs = dict(
        await BadgeAward.filter(badge__slug__in=list(badge_draft)).values_list("id", "badge__slug")
        if badge_draft
        else []
    )
    history = await load(
        start,
        end,
        award_slugs={int(k): str(v) for k, v in slugs.items()},
        metrics=frozenset(b.metric for b in badge_current.values()),
    )
    t0 = start.timestamp()
    runs = [
        Replay(r, history.scratch, history.activities, keep_days=current.keep_days, start=t0)
        for r in (current, proposed)
    ]
    events = 0
    for at, order, item in history.stream():
        events += 1
        if events % _SLICE == 0:
            await asyncio.sleep(0)  # the worker's other requests get their turn
        for run in runs:
            if order == 0:
                run.record(item[0], item[1], at)
            elif order == 1:
                run.entry(item)
            else:
                run.count(item)
    outcomes = [run.finish(end.timestamp(), history.joined) for run in runs]
    return await compare(
        svc, start, end, (current, proposed), outcomes, events, await _recorded_levels(start, end)
    )


async def _current(svc: Services) -> Rules:
    await ensure_rules()
    earning = {str(r.kind): values_of(r) for r in await EarningRule.all()}
    ladder = [tier_values(t) for t in await tier_ladder()]
    holdouts = [
        Holdout(
            str(e.target_kind),
            e.target_ref,
            e.salt,
            e.holdout_percent,
            e.started_at.timestamp(),
            None if e.ended_at is None else e.ended_at.timestamp(),
        )
        for e in await Experiment.all()
    ]
    return Rules(
        earning, svc.points_per_currency_unit, ladder, svc.points_expire_days, holdouts=holdouts
    )


def _earning(
    current: Mapping[str, RuleValues], drafts: Sequence[RuleDraft]
) -> dict[str, RuleValues]:
    out = dict(current)
    for d in drafts:
        base = out.get(d.kind.value, RuleValues())
        values = replace(
            base,
            points=base.points if d.points is None else d.points,
            points_per_currency_unit=base.points_per_currency_unit
            if d.points_per_currency_unit is None
            else d.points_per_currency_unit,
            active=base.active if d.active is None else d.active,
        )
        out[d.kind.value] = validate(d.kind, values)
    return out


def _ladder(tiers: Sequence[TierValues]) -> list[TierValues]:
    return list(validate_tiers(sorted(tiers, key=lambda t: t.threshold)))


def _days(draft: SimulationDraft) -> int:
    days = draft.points_expire_days or 0
    if not 0 <= days <= 3650:
        raise Invalid("pointsExpireDays", msg("Points expire after 0 to 3650 days (0: never)."))
    return days


def _badges(
    drafts: Sequence[BadgeDraft], definitions: Mapping[str, BadgeDefinition]
) -> tuple[dict[str, BadgeRule], dict[str, BadgeRule]]:
    """The badges both replays grant themselves: those the draft changes, as they are
    now and as drafted."""
    now: dict[str, BadgeRule] = {}
    drafted: dict[str, BadgeRule] = {}
    for d in drafts:
        found = definitions.get(d.slug)
        if found is None:
            raise Invalid("badges", msg("No badge {slug!r}.", slug=d.slug))
        if found.metric not in COUNTED and found.metric != LIFETIME:
            raise Invalid(
                "badges",
                msg("The badge {slug!r} counts something a backtest cannot replay.", slug=d.slug),
            )
        if not d.thresholds or len(d.thresholds) != len(d.bonus_points):
            raise Invalid("badges", msg("Give each level a threshold and a bonus."))
        if (
            any(b >= a for a, b in zip(d.thresholds[1:], d.thresholds, strict=False))
            or min(d.thresholds) < 1
        ):
            raise Invalid("badges", msg("Badge thresholds must be positive and rise."))
        if any(not 0 <= b <= 100_000 for b in d.bonus_points):
            raise Invalid("badges", msg("A level's bonus must be 0 to 100,000 points."))
        metric = str(found.metric)
        # A badge switched off grants nothing as the rules stand.
        now[d.slug] = BadgeRule(
            d.slug,
            metric,
            tuple(found.thresholds) if found.enabled else (),
            tuple(found.bonus_points) if found.enabled else (),
            found.revocable,
        )
        drafted[d.slug] = BadgeRule(
            d.slug, metric, tuple(d.thresholds), tuple(d.bonus_points), found.revocable
        )
    return now, drafted


async def _recorded_levels(start: datetime, end: datetime) -> dict[tuple[str, int], int]:
    """Badge levels granted in the range as recorded (the badges no draft changes)."""
    rows = (
        await BadgeAward.filter(awarded_at__gte=start, awarded_at__lt=end)
        .annotate(n=Count("id"))
        .group_by("badge__slug", "level")
        .values_list("badge__slug", "level", "n")
    )
    return {(str(slug), int(level)): int(n) for slug, level, n in rows}
