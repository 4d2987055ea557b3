"""Program metrics for the shop owner (ADMIN): README, "Program metrics"."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.runner import caller, field
from server import actions
from server.rewards.metrics import Segment

__all__ = ["MetricsQueries"]


@strawberry.enum(description="The length of each step of a metrics series (UTC).")
class MetricsInterval(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@strawberry.enum(description="Which members the figures count.")
class MemberSegment(Enum):
    ALL = "ALL"
    ENGAGED = "ENGAGED"
    PURCHASE_ONLY = "PURCHASE_ONLY"


@strawberry.type(description="The program's figures for one range (README, Program metrics).")
class MetricsFigures:
    start: datetime
    end: datetime
    active_members: int
    new_members: int
    orders: int
    revenue_cents: int
    average_order_value_cents: int
    purchase_frequency: float
    repeat_purchase_rate: float
    retention_rate: float
    second_purchase_rate: float
    historical_clv_cents: int
    predicted_clv_12m_cents: int = strawberry.field(name="predictedClv12mCents")
    points_issued: int
    points_reversed: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int
    liability_cents: int
    redemption_rate: float
    breakage_rate: float


@strawberry.type
class PointsByKind:
    kind: str = strawberry.field(
        description="An activity kind, BONUS (badges, tiers, contests) or ADJUSTMENT."
    )
    points: int


@strawberry.type
class TierCount:
    tier: str
    members: int


@strawberry.type
class PrizeCount:
    name: str
    redemptions: int
    points: int


@strawberry.type
class ReferralConversion:
    referrals: int = strawberry.field(description="Referrals recorded in the range.")
    converted: int = strawberry.field(description="Of those, paid (the first order kept).")
    rate: float


@strawberry.type(description="The figures of the whole range, and per interval in it.")
class ProgramMetrics(MetricsFigures):
    series: list[MetricsFigures]
    by_kind: list[PointsByKind] = strawberry.field(description="Points issued by source.")
    tier_distribution: list[TierCount] = strawberry.field(description="Members per tier at to.")
    top_prizes: list[PrizeCount]
    referral_conversion: ReferralConversion


@strawberry.type(description="Members who joined in one interval, and who of them bought.")
class Cohort:
    start: datetime
    members: int
    retained: list[float] = strawberry.field(
        description="[k]: the share who bought in the k-th interval after joining (0: the "
        "joining interval)."
    )


@strawberry.type
class MetricsQueries:
    @field(description="ADMIN: does the program pay? Orders, retention, CLV and points.")
    async def program_metrics(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        interval: MetricsInterval = MetricsInterval.MONTH,
        segment: MemberSegment = MemberSegment.ALL,
    ) -> ProgramMetrics:
        found = await actions.program_metrics(
            *caller(info),
            start=from_,
            end=to,
            interval=actions.Interval(interval.value),
            segment=Segment(segment.value),
        )
        parts = found.breakdowns
        assert parts is not None
        return ProgramMetrics(
            **found.figures(),  # type: ignore[arg-type]
            series=[MetricsFigures(**s.figures()) for s in found.series],  # type: ignore[arg-type]
            by_kind=[PointsByKind(kind=k, points=p) for k, p in sorted(parts.by_kind.items())],
            tier_distribution=[TierCount(tier=t, members=n) for t, n in parts.tiers.items()],
            top_prizes=[
                PrizeCount(name=p.name, redemptions=p.redemptions, points=p.points)
                for p in parts.prizes
            ],
            referral_conversion=ReferralConversion(
                referrals=parts.referrals.made,
                converted=parts.referrals.converted,
                rate=parts.referrals.rate,
            ),
        )

    @field(description="ADMIN: retention by cohort of joining (README, Program metrics).")
    async def cohort_retention(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        interval: MetricsInterval = MetricsInterval.MONTH,
    ) -> list[Cohort]:
        rows = await actions.cohort_retention(
            info.context.principal,
            start=from_,
            end=to,
            interval=actions.Interval(interval.value),
        )
        return [Cohort(start=c.start, members=c.members, retained=c.retained) for c in rows]
