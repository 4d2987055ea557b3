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

from server.rewards.metrics_sums import Conditions

__all__ = ["Lifetime", "first_orders", "lifetime"]

_YEAR = timedelta(days=365)


async def first_orders(cond: Conditions, edges: Sequence[datetime]) -> list[tuple[int, int, int]]:
    """(members whose first order ever falls in it, of them with a second order within 90
    days of the first, members with an order before its end) per interval and range."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("f.first", edges)  # 0: before start; i + 1: interval i
    purchases, p_params = cond.purchases()
    rows = await sql.rows(
        "WITH r AS (SELECT a.member_id AS m, a.occurred_at AS t, ROW_NUMBER() OVER "
        "(PARTITION BY a.member_id ORDER BY a.occurred_at) AS k FROM activities a "
        f"WHERE {purchases}), "
        "f AS (SELECT m, MIN(CASE WHEN k = 1 THEN t END) AS first, "
        "MIN(CASE WHEN k = 2 THEN t END) AS second FROM r WHERE k <= 2 GROUP BY m) "
        f"SELECT {b} AS b, COUNT(*) AS firsts, SUM(CASE WHEN f.second IS NOT NULL AND "
        f"{sql.within_days('f.second', 'f.first', 90)} THEN 1 ELSE 0 END) AS seconds "
        "FROM f WHERE f.first < ? GROUP BY 1",
        [*p_params, *b_params, edges[-1]],
    )
    firsts, seconds = [0] * (n + 1), [0] * (n + 1)
    for r in rows:
        firsts[int(r["b"])] = int(r["firsts"])
        seconds[int(r["b"])] = int(r["seconds"] or 0)
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
    made = await sql.rows(
        f"SELECT {b} AS b, {y} AS y, SUM({sql.amount}) AS cents FROM activities a "
        f"WHERE {purchases} AND a.occurred_at < ? GROUP BY 1, 2",
        [*b_params, *y_params, *p_params, edges[-1]],
    )
    refunded_at, r_params = sql.index("r.created_at", ends)
    taken = await sql.rows(
        f"SELECT {sql.greatest}({b}, {refunded_at}) AS b, {y} AS y, "
        "SUM(r.amount_cents) AS cents FROM refunds r JOIN activities a ON a.id = r.purchase_id "
        f"WHERE {purchases} AND a.occurred_at < ? AND r.created_at < ? GROUP BY 1, 2",
        [*b_params, *r_params, *y_params, *p_params, edges[-1], edges[-1]],
    )
    # A member buys within 365 days of end e when an order of theirs falls in them; runs
    # of orders less than 365 days apart ("spells") cover every end from just after
    # their first order to 365 days after their last, so a spell counts at e when its
    # first order is before e and its last within 365 days of it.
    first, f_params = sql.index("s.first", ends)
    last, l_params = sql.index("s.last", shifted)
    spells = await sql.rows(
        "WITH o AS (SELECT a.member_id AS m, a.occurred_at AS t, a.id AS id, "
        "LAG(a.occurred_at) OVER (PARTITION BY a.member_id ORDER BY a.occurred_at, a.id) "
        f"AS prev FROM activities a WHERE {purchases} AND a.occurred_at >= ? "
        "AND a.occurred_at < ?), "
        "k AS (SELECT m, t, SUM(CASE WHEN prev IS NULL OR NOT "
        f"({sql.within_days('t', 'prev', 365)}) THEN 1 ELSE 0 END) OVER (PARTITION BY m "
        "ORDER BY t, id ROWS UNBOUNDED PRECEDING) AS k FROM o), "
        "s AS (SELECT MIN(t) AS first, MAX(t) AS last FROM k GROUP BY m, k) "
        f"SELECT {first} AS b, {last} AS y, COUNT(*) AS n FROM s GROUP BY 1, 2",
        [*p_params, shifted[0], edges[-1], *f_params, *l_params],
    )
    revenue, year_revenue = _running(made, n, "cents")
    refunds_, year_refunds = _running(taken, n, "cents")
    _, buyers = _running(spells, n, "n")
    out = [
        Lifetime(revenue[p] - refunds_[p], year_revenue[p] - year_refunds[p], buyers[p])
        for p in range(n)
    ]
    return [*out, out[-1]]
