"""``simulateProgram`` (ADMIN): a backtest of draft rules on the recorded history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import strawberry

from schema.activities import ActivityKind
from schema.context import Info
from schema.metrics import PointsByKind, TierCount
from schema.runner import caller, field
from server.actions.simulate import BadgeDraft, RuleDraft, SimulationDraft, simulate_program
from server.actions.simulate_figures import Side, Simulation
from server.rewards.activities import ActivityKind as ActivityKindRow
from server.rewards.errors import Invalid
from server.rewards.text import msg
from server.rewards.tiers import TierValues

__all__ = ["SimulationQueries"]


@strawberry.input(description="An earning rule as proposed; what is left out stays as it is.")
class EarningRuleDraft:
    kind: ActivityKind
    points: int | None = None
    points_per_currency_unit: float | None = None
    active: bool | None = None


@strawberry.input(description="A tier of the proposed ladder (the whole ladder is given).")
class TierDraft:
    name: str
    threshold: int
    multiplier: float
    entry_bonus: int = 0


@strawberry.input(description="A badge's proposed levels: a threshold and a bonus each.")
class BadgeLevelsDraft:
    slug: str
    thresholds: list[int]
    bonus_points: list[int]


@strawberry.input(description="The range to replay and the rules to try; absent parts unchanged.")
class SimulationInput:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    earning_rules: list[EarningRuleDraft] | None = None
    tiers: list[TierDraft] | None = None
    points_expire_days: int | None = strawberry.field(
        default=None, description="0: points never expire."
    )
    badges: list[BadgeLevelsDraft] | None = None


@strawberry.type
class BadgeLevelCount:
    slug: str
    level: int
    granted: int


@strawberry.type(description="One set of rules' figures over the range.")
class SimulatedProgram:
    points_issued: int
    by_kind: list[PointsByKind]
    points_reversed: int
    points_expired: int
    points_outstanding: int = strawberry.field(description="Spendable + pending at to.")
    liability_cents: int
    tier_distribution: list[TierCount] = strawberry.field(description="Members per tier at to.")
    badge_levels: list[BadgeLevelCount]


@strawberry.type(description="A member of the draft's top 100 by points earned in the range.")
class SimulatedRank:
    member_id: strawberry.ID
    external_id: str
    display_name: str
    current_rank: int | None = strawberry.field(description="null: no points under current rules.")
    draft_rank: int
    current_points: int
    draft_points: int


@strawberry.type(description="Per member, draft minus current points earned in the range.")
class PointChanges:
    members: int
    minimum: int
    lower_quartile: float
    median: float
    upper_quartile: float
    maximum: int


@strawberry.type(description="The range replayed under the current rules and the draft.")
class SimulationResult:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    events: int = strawberry.field(description="Recorded activities, entries and counts replayed.")
    current: SimulatedProgram
    draft: SimulatedProgram
    members_moving_up: int = strawberry.field(description="In a higher tier at to under the draft.")
    members_moving_down: int
    top: list[SimulatedRank]
    point_changes: PointChanges


def _program(side: Side) -> SimulatedProgram:
    return SimulatedProgram(
        points_issued=side.points_issued,
        by_kind=[PointsByKind(kind=k, points=p) for k, p in side.by_kind.items()],
        points_reversed=side.points_reversed,
        points_expired=side.points_expired,
        points_outstanding=side.points_outstanding,
        liability_cents=side.liability_cents,
        tier_distribution=[TierCount(tier=t, members=n) for t, n in side.tiers],
        badge_levels=[
            BadgeLevelCount(slug=s, level=lv, granted=n) for s, lv, n in side.badge_levels
        ],
    )


def _decimal(name: str, value: float) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.001"))
    except InvalidOperation:
        raise Invalid(name, msg("{field} must be a number like 1.25.", field=name)) from None


def _draft(given: SimulationInput) -> SimulationDraft:
    rules = [
        RuleDraft(
            ActivityKindRow(r.kind.value),
            r.points,
            None
            if r.points_per_currency_unit is None
            else _decimal("pointsPerCurrencyUnit", r.points_per_currency_unit),
            r.active,
        )
        for r in given.earning_rules or []
    ]
    tiers = None
    if given.tiers is not None:
        tiers = [
            TierValues(
                t.name.strip(),
                t.threshold,
                _decimal("multiplier", t.multiplier),
                t.entry_bonus,
            )
            for t in given.tiers
        ]
    badges = [
        BadgeDraft(b.slug, tuple(b.thresholds), tuple(b.bonus_points)) for b in given.badges or []
    ]
    return SimulationDraft(given.from_, given.to, rules, tiers, given.points_expire_days, badges)


@strawberry.type
class SimulationQueries:
    @field(
        description="ADMIN: replay the recorded activities of [from, to) under proposed rules, "
        "beside the current rules on the same replay. Reads the ledger, changes nothing."
    )
    async def simulate_program(self, info: Info, input: SimulationInput) -> SimulationResult:
        found: Simulation = await simulate_program(*caller(info), _draft(input))
        return SimulationResult(
            from_=found.start,
            to=found.end,
            events=found.events,
            current=_program(found.current),
            draft=_program(found.draft),
            members_moving_up=found.moved_up,
            members_moving_down=found.moved_down,
            top=[
                SimulatedRank(
                    member_id=strawberry.ID(str(r.member_id)),
                    external_id=r.external_id,
                    display_name=r.display_name,
                    current_rank=r.current_rank,
                    draft_rank=r.draft_rank,
                    current_points=r.current_points,
                    draft_points=r.draft_points,
                )
                for r in found.top
            ],
            point_changes=PointChanges(
                members=found.changes.members,
                minimum=found.changes.minimum,
                lower_quartile=found.changes.lower_quartile,
                median=found.changes.median,
                upper_quartile=found.changes.upper_quartile,
                maximum=found.changes.maximum,
            ),
        )
