"""Program metrics aggregated in the database (SQLite and PostgreSQL alike), never a
loop over rows in Python. Times are the activities' ``occurred_at`` (the ledger's for
points, the refund's recording time for refunds), UTC; ranges are [start, end).
Definitions: README, "Program metrics".

Every figure of every interval and of the whole range comes from one pass per figure
group (``server.rewards.metrics_sums``) over the rollups and the raw rows they do not
hold yet (``metrics_sources``; ``metrics_catchup.catch_up`` keeps them current): each
row is given the index of the interval it falls in by a CASE tree over the boundaries
(``Sql.index``), the database sums per index, and the running figures (outstanding
points, lifetime value) are running sums of those few rows here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from server.rewards import metrics_lifetime as history
from server.rewards import metrics_sums as sums
from server.rewards.metrics_sql import Sql, begun, tuned
from server.rewards.metrics_sums import Segment

__all__ = ["Figures", "Segment", "Sql", "figures", "series"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Figures:
    active_members: int
    new_members: int
    orders: int
    order_cents: int
    refund_cents: int
    buyers: int
    repeat_buyers: int
    previous_buyers: int
    retained_buyers: int
    first_buyers: int
    second_within_90: int
    clv_revenue_cents: int
    clv_buyers: int
    year_revenue_cents: int
    year_buyers: int
    points_issued: int
    points_reversed: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int


async def series(
    edges: Sequence[datetime], segment: Segment = Segment.ALL
) -> tuple[list[Figures], Figures]:
    """The figures of each interval [edges[i], edges[i+1]) and of [edges[0], edges[-1]).
    A segment is taken at the range's end for every interval (engaged before ``to``)."""
    n = len(edges) - 1
    jobs = (
        begun(_sum(sums.new_members, edges, segment)),
        begun(_sum(sums.active_members, edges, segment)),
        begun(_sum(sums.orders, edges, segment)),
        begun(_sum(sums.refunds, edges, segment)),
        begun(_sum(sums.retention, edges, segment)),
        begun(_sum(history.first_orders, edges, segment)),
        begun(_sum(history.lifetime, edges, segment)),
        begun(_sum(sums.points, edges, segment)),
    )
    new, active, orders, refunds = await jobs[0], await jobs[1], await jobs[2], await jobs[3]
    retention, firsts, lifetime, points = await jobs[4], await jobs[5], await jobs[6], await jobs[7]

    def at(i: int) -> Figures:
        """Interval i, or the whole range for i == n."""
        return Figures(
            active_members=active[i],
            new_members=new[i],
            orders=orders[i].orders,
            order_cents=orders[i].cents,
            refund_cents=refunds[i],
            buyers=orders[i].buyers,
            repeat_buyers=orders[i].repeats,
            previous_buyers=retention[i][0],
            retained_buyers=retention[i][1],
            first_buyers=firsts[i][0],
            second_within_90=firsts[i][1],
            clv_revenue_cents=lifetime[i].revenue_cents,
            clv_buyers=firsts[i][2],
            year_revenue_cents=lifetime[i].year_revenue_cents,
            year_buyers=lifetime[i].year_buyers,
            points_issued=points[i].issued,
            points_reversed=points[i].reversed,
            points_redeemed=points[i].redeemed,
            points_expired=points[i].expired,
            points_outstanding=max(0, points[i].outstanding),
        )

    return [at(i) for i in range(n)], at(n)


async def _sum(
    query: Callable[[sums.Conditions, Sequence[datetime]], Awaitable[T]],
    edges: Sequence[datetime],
    segment: Segment,
) -> T:
    """One of the sums in a transaction of its own (``tuned``)."""
    async with tuned() as sql:
        return await query(sums.Conditions(sql, segment, edges[-1]), edges)


async def figures(start: datetime, end: datetime, segment: Segment = Segment.ALL) -> Figures:
    """Every figure of [start, end) for a segment of members."""
    return (await series([start, end], segment))[1]
