"""Program metrics for the shop owner (ADMIN): the figures of a range, per interval too.
The sums are the database's (``server.rewards.metrics``); here they become rates, the
liability in money and the series."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from server.actions.common import require
from server.actions.services import Services
from server.actions.tiers import tier_ladder
from server.auth import Principal, Role
from server.rewards.errors import Invalid
from server.rewards.metrics import Figures, Segment, series
from server.rewards.metrics_breakdowns import (
    Cohort,
    PrizeCount,
    Referrals,
    cohorts,
    points_by_kind,
    referrals,
    tier_counts,
    top_prizes,
)
from server.rewards.metrics_catchup import catch_up
from server.rewards.metrics_sql import begun

__all__ = ["Breakdowns", "Interval", "Metrics", "cohort_retention", "program_metrics"]

_MAX_BUCKETS = 400


class Interval(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class Breakdowns:
    """Of the whole range only."""

    by_kind: dict[str, int]
    tiers: dict[str, int]
    prizes: list[PrizeCount]
    referrals: Referrals


@dataclass(frozen=True, slots=True)
class Metrics:
    start: datetime
    end: datetime
    raw: Figures
    point_value_cents: Decimal
    series: tuple[Metrics, ...] = ()
    breakdowns: Breakdowns | None = None

    @property
    def revenue_cents(self) -> int:
        return self.raw.order_cents - self.raw.refund_cents

    @property
    def average_order_value_cents(self) -> int:
        return self.raw.order_cents // self.raw.orders if self.raw.orders else 0

    @property
    def purchase_frequency(self) -> float:
        return _ratio(self.raw.orders, self.raw.buyers)

    @property
    def repeat_purchase_rate(self) -> float:
        return _ratio(self.raw.repeat_buyers, self.raw.buyers)

    @property
    def retention_rate(self) -> float:
        return _ratio(self.raw.retained_buyers, self.raw.previous_buyers)

    @property
    def second_purchase_rate(self) -> float:
        return _ratio(self.raw.second_within_90, self.raw.first_buyers)

    @property
    def historical_clv_cents(self) -> int:
        r = self.raw
        return r.clv_revenue_cents // r.clv_buyers if r.clv_buyers else 0

    @property
    def predicted_clv_12m_cents(self) -> int:
        """The last 12 months' net revenue per buyer, as the next 12 months' (README)."""
        r = self.raw
        return r.year_revenue_cents // r.year_buyers if r.year_buyers else 0

    @property
    def liability_cents(self) -> int:
        value = Decimal(self.raw.points_outstanding) * self.point_value_cents
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def redemption_rate(self) -> float:
        return _ratio(self.raw.points_redeemed, self.raw.points_issued)

    @property
    def breakage_rate(self) -> float:
        return _ratio(self.raw.points_expired, self.raw.points_issued)

    def figures(self) -> dict[str, object]:
        """Every figure by its name (GraphQL's, in snake case), the range first."""
        r = self.raw
        return {
            "start": self.start,
            "end": self.end,
            "active_members": r.active_members,
            "new_members": r.new_members,
            "orders": r.orders,
            "revenue_cents": self.revenue_cents,
            "average_order_value_cents": self.average_order_value_cents,
            "purchase_frequency": self.purchase_frequency,
            "repeat_purchase_rate": self.repeat_purchase_rate,
            "retention_rate": self.retention_rate,
            "second_purchase_rate": self.second_purchase_rate,
            "historical_clv_cents": self.historical_clv_cents,
            "predicted_clv_12m_cents": self.predicted_clv_12m_cents,
            "points_issued": r.points_issued,
            "points_reversed": r.points_reversed,
            "points_redeemed": r.points_redeemed,
            "points_expired": r.points_expired,
            "points_outstanding": r.points_outstanding,
            "liability_cents": self.liability_cents,
            "redemption_rate": self.redemption_rate,
            "breakage_rate": self.breakage_rate,
        }


def boundaries(start: datetime, end: datetime, interval: Interval) -> list[datetime]:
    """start, every interval boundary (UTC midnight, Monday, the 1st) inside, end."""
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.DAY:
        step = day + timedelta(days=1)
    elif interval is Interval.WEEK:
        step = day + timedelta(days=7 - day.weekday())
    else:
        step = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    points = [start]
    while step < end:
        points.append(step)
        if len(points) > _MAX_BUCKETS:
            raise Invalid("interval", f"At most {_MAX_BUCKETS} intervals: choose a longer one.")
        if interval is Interval.DAY:
            step += timedelta(days=1)
        elif interval is Interval.WEEK:
            step += timedelta(days=7)
        else:
            step = (step + timedelta(days=32)).replace(day=1)
    return [*points, end]


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The range in UTC; ``Invalid`` unless it ends after it starts."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise Invalid("to", "to must be after from.")
    return start, end


async def program_metrics(
    svc: Services,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    interval: Interval = Interval.MONTH,
    segment: Segment = Segment.ALL,
) -> Metrics:
    """ADMIN: the program's figures of [start, end) and of each interval in it."""
    require(principal, Role.ADMIN)
    start, end = _range(start, end)
    if end - start > timedelta(days=366 * 5):
        raise Invalid("to", "A range of at most 5 years.")
    key = (start, end, interval, segment)
    cached = svc.metrics_cache.get(key)
    if isinstance(cached, Metrics):
        return cached
    edges = boundaries(start, end, interval)
    ladder = await tier_ladder()
    await catch_up()  # the rollups' news first: each figure reads the rest raw
    jobs = (
        begun(series(edges, segment)),
        begun(points_by_kind(start, end)),
        begun(tier_counts(ladder, end)),
        begun(top_prizes(start, end)),
        begun(referrals(start, end)),
    )
    (parts, whole), by_kind, tiers = await jobs[0], await jobs[1], await jobs[2]
    prizes, referred = await jobs[3], await jobs[4]
    each = [
        Metrics(a, b, found, svc.point_value_cents)
        for (a, b), found in zip(itertools.pairwise(edges), parts, strict=True)
    ]
    breakdowns = Breakdowns(by_kind=by_kind, tiers=tiers, prizes=prizes, referrals=referred)
    found = Metrics(start, end, whole, svc.point_value_cents, tuple(each), breakdowns)
    svc.metrics_cache.put(key, found)
    return found


async def cohort_retention(
    principal: Principal, *, start: datetime, end: datetime, interval: Interval = Interval.MONTH
) -> list[Cohort]:
    """ADMIN: members by the interval they joined in, and the share of each cohort who
    bought in each interval after (k = 0: the joining one)."""
    require(principal, Role.ADMIN)
    start, end = _range(start, end)
    edges = boundaries(start, end, interval)
    if len(edges) > 62:
        raise Invalid("interval", "At most 61 cohorts: choose a longer interval.")
    return await cohorts(edges)
