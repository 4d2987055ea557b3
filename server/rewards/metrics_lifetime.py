# The SQL below is put together from constant fragments only (segment conditions, the
# dialect's JSON and date expressions, generated CASE trees); every value is a bound
# parameter.
# ruff: noqa: S608
"""The sums of program metrics over each member's order history: first and second
orders, and the running figures at each interval's end (lifetime value, the last 365
days' revenue and buyers). As in ``metrics_sums``: n + 1 values for n intervals, the
last the whole range's."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.rewards import metrics_sources as sources
from server.rewards.metrics_sums import Conditions

__all__ = ["Lifetime", "first_orders", "lifetime"]

_YEAR = timedelta(days=365)


async def first_orders(cond: Conditions, edges: Sequence[datetime]) -> list[tuple[int, int, int]]:
    """(members whose first order ever falls in it, of them with a second order within 90
    days of the first, members with an order before its end) per interval and range.
    A member's first order is the one without a previous order; their second, the one
    whose previous order has none before it."""
    sql, n = cond.sql, len(edges) - 1
    first = "COALESCE(c.prev, c.occurred_at)"
    b, b_params = sql.index(first, edges)  # 0: before start; i + 1: interval i
    mine, m_params = cond.of("c.member_id")
    rows = await sql.rows(
        *sources.grouped(
            sql,
            f"{b} AS b, SUM(CASE WHEN c.prev IS NULL THEN 1 ELSE 0 END) AS firsts, "
            "SUM(CASE WHEN c.prev IS NOT NULL AND "
            f"{sql.within_days('c.occurred_at', 'c.prev', 90)} THEN 1 ELSE 0 END) AS seconds",
            f"c.purchase AND c.prev2 IS NULL AND {first} < ?{mine}",
            [*b_params, edges[-1], *m_params],
            groups=1,
        )
    )
    firsts, seconds = [0] * (n + 1), [0] * (n + 1)
    for r in rows:
        firsts[int(r["b"])] += int(r["firsts"] or 0)
        seconds[int(r["b"])] += int(r["seconds"] or 0)
    buyers = list(itertools.accumulate(firsts))  # [i + 1]: first order before interval i ends
    out = [(firsts[i + 1], seconds[i + 1], buyers[i + 1]) for i in range(n)]
    return [*out, (sum(firsts[1:]), sum(seconds[1:]), buyers[n])]


@dataclass(frozen=True, slots=True)
class Lifetime:
    revenue_cents: int  # orders before the end, less their refunds recorded before it
    year_revenue_cents: int  # the same of the orders of the 365 days before the end
    year_buyers: int  # members with an order in those 365 days


def _running(rows: list[dict[str, Any]], n: int, column: str) -> tuple[list[int], list[int]]:
    """Sums at each end p of rows with b <= p, and of those rows with y > p too (rows
    with ``b``: the ends at or before their time, ``y``: the same of the ends less 365
    days, so that y > p says the time is within 365 days of end p)."""
    starts, stops = [0] * (n + 1), [0] * (n + 1)
    for r in rows:
        b, y, value = int(r["b"]), int(r["y"]), int(r[column] or 0)
        starts[b] += value
        if y > b:  # in the 365 days before ends b..y-1
            stops[b] += value
            stops[y] -= value
    every = list(itertools.accumulate(starts))[:n]
    year = list(itertools.accumulate(stops))[:n]
    return every, year


async def lifetime(cond: Conditions, edges: Sequence[datetime]) -> list[Lifetime]:
    sql, n = cond.sql, len(edges) - 1
    ends = edges[1:]
    shifted = [e - _YEAR for e in ends]
    purchases, p_params = cond.purchases()
    b, b_params = sql.index("a.occurred_at", ends)
    y, y_params = sql.index("a.occurred_at", shifted)
    refunded_at, r_params = sql.index("r.created_at", ends)
    taken = await sql.rows(
        f"SELECT {sql.greatest}({b}, {refunded_at}) AS b, {y} AS y, "
        "SUM(r.amount_cents) AS cents FROM refunds r JOIN activities a ON a.id = r.purchase_id "
        f"WHERE {purchases} AND a.occurred_at < ? AND r.created_at < ? GROUP BY 1, 2",
        [*b_params, *r_params, *y_params, *p_params, edges[-1], edges[-1]],
    )
    # Orders by the ends at or before their time (b) and the shifted ends (y): their
    # amounts count at the ends from b on, within 365 days at b..y-1. A member buys in
    # the 365 days before end e when an order of theirs falls in them: an order covers
    # the ends in (t, t + 365 d] and adds to its member's count those its previous order
    # did not cover, after max(t, prev + 365 d): k = max(b, shifted ends <= prev) to y-1.
    mine, m_params = cond.of("c.member_id")
    at_end, e_params = sql.index("c.occurred_at", ends)
    at_year, s_params = sql.index("c.occurred_at", shifted)
    prev, prev_params = sql.index("c.prev", shifted)
    made = await sql.rows(
        *sources.grouped(
            sql,
            f"{at_end} AS b, {at_year} AS y, {sql.greatest}({at_end}, CASE WHEN c.prev IS NULL "
            f"THEN 0 ELSE {prev} END) AS k, SUM(c.cents) AS cents, COUNT(*) AS n",
            f"c.purchase AND c.occurred_at < ?{mine}",
            [*e_params, *s_params, *e_params, *prev_params, edges[-1], *m_params],
            groups=3,
        )
    )
    covering = [{"b": r["k"], "y": r["y"], "n": r["n"]} for r in made]
    revenue, year_revenue = _running(made, n, "cents")
    refunds_, year_refunds = _running(taken, n, "cents")
    _, buyers = _running(covering, n, "n")
    out = [
        Lifetime(revenue[p] - refunds_[p], year_revenue[p] - year_refunds[p], buyers[p])
        for p in range(n)
    ]
    return [*out, out[-1]]
