# The SQL below is put together from constant fragments only (segment conditions, the
# dialect's JSON and date expressions, generated CASE trees and integer literals); every
# value is a bound parameter.
# ruff: noqa: S608
"""The sums behind program metrics, one grouped pass each, for every interval of a range
and the range itself at once. ``edges`` are [start, boundaries inside..., end]; each
function answers a list of n + 1 values for n intervals, the last the whole range's.

Figures that add up over intervals (orders, points) are summed per interval index and
added up for the range; distinct counts (buyers, active members) count the one row of
each member that opens their presence in an interval or the range, told by the index
of the member's previous activity or order (``metrics_sources``: rollups and the raw
rows they do not hold yet); running figures at each interval's end (outstanding points,
lifetime value, the last 12 months) are running sums of per-index rows: a row counts at
end ``e`` when its index (``Sql.index``) says it lies before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from server.rewards import metrics_sources as sources
from server.rewards.metrics_sql import Sql

__all__ = [
    "Conditions",
    "Orders",
    "Points",
    "Segment",
    "active_members",
    "new_members",
    "orders",
    "points",
    "refunds",
    "retention",
]


class Segment(StrEnum):
    ALL = "ALL"
    ENGAGED = "ENGAGED"
    PURCHASE_ONLY = "PURCHASE_ONLY"


class Conditions:
    """The segment's condition on a member id column (members engaged before ``end``)."""

    def __init__(self, sql: Sql, segment: Segment, end: datetime) -> None:
        self.sql = sql
        self.segment = segment
        self.end = end

    def of(self, column: str) -> tuple[str, list[Any]]:
        if self.segment is Segment.ALL:
            return "", []
        engaged = (
            "SELECT member_id FROM activities WHERE kind IN ('REVIEW','PHOTO_REVIEW',"
            "'SOCIAL_SHARE','REFERRAL') AND occurred_at < ? "
            "UNION SELECT member_id FROM redemptions WHERE created_at < ? "
            "UNION SELECT member_id FROM discount_codes WHERE created_at < ?"
        )
        word = "IN" if self.segment is Segment.ENGAGED else "NOT IN"
        return f" AND {column} {word} ({engaged})", [self.end] * 3

    def purchases(self) -> tuple[str, list[Any]]:
        """The segment's orders, on the alias ``a``."""
        cond, params = self.of("a.member_id")
        return f"a.kind = 'PURCHASE'{cond}", params


def _inner(edges: Sequence[datetime]) -> Sequence[datetime]:
    """The boundaries inside the range: indexing by them numbers the intervals 0..n-1."""
    return edges[1:-1]


def _per(rows: list[dict[str, Any]], n: int, column: str) -> list[int]:
    """A column of rows keyed by interval ``b`` (0..n-1), as n values and their sum."""
    found = [0] * n
    for r in rows:
        found[int(r["b"])] = int(r[column] or 0)
    return [*found, sum(found)]


async def new_members(cond: Conditions, edges: Sequence[datetime]) -> list[int]:
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("m.created_at", _inner(edges))
    m_cond, m_params = cond.of("m.id")
    rows = await sql.rows(
        f"SELECT {b} AS b, COUNT(*) AS n FROM members m "
        f"WHERE m.created_at >= ? AND m.created_at < ?{m_cond} GROUP BY 1",
        [*b_params, edges[0], edges[-1], *m_params],
    )
    return _per(rows, n, "n")


def _placed(sql: Sql, column: str, edges: Sequence[datetime]) -> tuple[str, list[Any]]:
    """The interval index of a row's earlier time ``column``: -1 before the range (or
    none), else its interval's (``b`` the row's own)."""
    i, i_params = sql.index(column, _inner(edges))
    return f"CASE WHEN {column} IS NULL OR {column} < ? THEN -1 ELSE {i} END", [edges[0], *i_params]


def _where(p: int, b: int) -> int:
    """0: the earlier time ``p`` is before the range, 1: in it but before interval ``b``,
    2: in interval ``b``."""
    return 0 if p < 0 else 2 if p == b else 1


async def active_members(cond: Conditions, edges: Sequence[datetime]) -> list[int]:
    """Members with any activity, per interval and over the range (distinct each): a
    member counts once in an interval, by their first activity in it, the one whose
    previous activity is before the interval."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("c.occurred_at", _inner(edges))
    p, p_params = _placed(sql, "c.prev_any", edges)
    a_cond, a_params = cond.of("c.member_id")
    rows = await sql.rows(
        *sources.grouped(
            sql,
            f"{b} AS b, {p} AS p, COUNT(*) AS n",
            f"c.occurred_at >= ? AND c.occurred_at < ?{a_cond}",
            [*b_params, *p_params, edges[0], edges[-1], *a_params],
            groups=2,
        )
    )
    found = [0] * (n + 1)
    for r in rows:
        i, where, k = int(r["b"]), _where(int(r["p"]), int(r["b"])), int(r["n"])
        found[i] += k if where < 2 else 0
        found[n] += k if where == 0 else 0
    return found


@dataclass(frozen=True, slots=True)
class Orders:
    orders: int
    cents: int
    buyers: int
    repeats: int  # buyers with 2 or more orders


async def orders(cond: Conditions, edges: Sequence[datetime]) -> list[Orders]:
    """Orders in [start, end). Buyers of an interval are counted by their first order
    in it (its previous order before the interval), repeat buyers by their second (its
    previous order in the interval, the one before that not)."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("c.occurred_at", _inner(edges))
    p, p_params = _placed(sql, "c.prev", edges)
    q, q_params = _placed(sql, "c.prev2", edges)
    mine, m_params = cond.of("c.member_id")
    rows = await sql.rows(
        *sources.grouped(
            sql,
            f"{b} AS b, {p} AS p, {q} AS q, COUNT(*) AS n, SUM(c.cents) AS cents",
            f"c.purchase AND c.occurred_at >= ? AND c.occurred_at < ?{mine}",
            [*b_params, *p_params, *q_params, edges[0], edges[-1], *m_params],
            groups=3,
        )
    )
    counts = [[0, 0, 0, 0] for _ in range(n + 1)]  # orders, cents, buyers, repeat buyers
    for r in rows:
        i, k, cents = int(r["b"]), int(r["n"]), int(r["cents"] or 0)
        prev, prev2 = _where(int(r["p"]), i), _where(int(r["q"]), i)
        for at, buyer, repeat in (
            (i, prev < 2, prev == 2 and prev2 < 2),
            (n, prev == 0, prev > 0 and prev2 == 0),
        ):
            row = counts[at]
            row[0] += k
            row[1] += cents
            row[2] += k if buyer else 0
            row[3] += k if repeat else 0
    return [Orders(*c) for c in counts]


async def refunds(cond: Conditions, edges: Sequence[datetime]) -> list[int]:
    """Refunds recorded in each interval, of the segment's orders."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("r.created_at", _inner(edges))
    a_cond, a_params = cond.of("a.member_id")
    joined = " JOIN activities a ON a.id = r.purchase_id" if a_cond else ""  # for the segment
    rows = await sql.rows(
        f"SELECT {b} AS b, SUM(r.amount_cents) AS cents FROM refunds r{joined} "
        f"WHERE r.created_at >= ? AND r.created_at < ?{a_cond} GROUP BY 1",
        [*b_params, edges[0], edges[-1], *a_params],
    )
    return _per(rows, n, "cents")


def _periods(edges: Sequence[datetime]) -> list[tuple[datetime, datetime, datetime]]:
    """(the equally long period before, start, end) of each interval and of the range."""
    spans = [*itertools.pairwise(edges), (edges[0], edges[-1])]
    return [(a - (b - a), a, b) for a, b in spans]


def _prefix(rows: list[dict[str, Any]], size: int) -> list[list[int]]:
    """2-D running sums of the counts ``n`` by ``(t, p)`` in 0..size-1: [x + 1][y + 1] the
    sum of the rows with t <= x and p <= y."""
    grid = [[0] * (size + 1) for _ in range(size + 1)]
    for r in rows:
        grid[int(r["t"]) + 1][int(r["p"]) + 1] += int(r["n"])
    for x in range(1, size + 1):
        row, above, running = grid[x], grid[x - 1], 0
        for y in range(1, size + 1):
            running += row[y]
            row[y] = running + above[y]
    return grid


async def retention(cond: Conditions, edges: Sequence[datetime]) -> list[tuple[int, int]]:
    """(buyers of the period before, of them buyers again in it) per interval and range.

    The periods before overlap the intervals and each other, so every boundary of either
    is a cut, and the orders are counted by the cut before their time and the cut before
    their member's previous order's. A member bought in [lo, mid) by an order there
    whose previous order is before lo, and bought in both [lo, mid) and [mid, hi) when
    their first order in [mid, hi) has its previous order in [lo, mid)."""
    sql = cond.sql
    periods = _periods(edges)
    cuts = sorted({*edges, *(lo for lo, _, _ in periods)})
    t, t_params = sql.index("c.occurred_at", cuts)
    p, p_params = sql.index("c.prev", cuts)
    mine, m_params = cond.of("c.member_id")
    rows = await sql.rows(
        *sources.grouped(
            sql,
            f"{t} AS t, CASE WHEN c.prev IS NULL THEN 0 ELSE {p} END AS p, COUNT(*) AS n",
            f"c.purchase AND c.occurred_at >= ? AND c.occurred_at < ?{mine}",
            [*t_params, *p_params, cuts[0], cuts[-1], *m_params],
            groups=2,
        )
    )
    sums = _prefix(rows, len(cuts) + 1)

    def count(t_from: int, t_to: int, p_from: int, p_to: int) -> int:
        """Rows with t in [t_from, t_to] and p in [p_from, p_to] (cut indexes)."""
        return (
            sums[t_to + 1][p_to + 1]
            - sums[t_from][p_to + 1]
            - sums[t_to + 1][p_from]
            + sums[t_from][p_from]
        )

    found = []
    for lo, mid, hi in periods:
        a, b, c = cuts.index(lo), cuts.index(mid), cuts.index(hi)
        # a time in [cuts[a], cuts[b]) has index a + 1 .. b; one before cuts[a], 0 .. a
        found.append((count(a + 1, b, 0, a), count(b + 1, c, a + 1, b)))
    return found


@dataclass(frozen=True, slots=True)
class Points:
    issued: int
    reversed: int
    redeemed: int
    expired: int
    outstanding: int  # the ledger's sum at the end


async def points(cond: Conditions, edges: Sequence[datetime]) -> list[Points]:
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("x.at", edges)  # 0: before start; i + 1: interval i
    source, s_params = sources.ledger(sql, edges[-1], edges, cond.of("e.member_id"))
    rows = await sql.rows(
        f"SELECT {b} AS b, "
        "SUM(CASE WHEN x.kind IN ('EARN','ADJUST') AND x.positive THEN x.amount ELSE 0 END) "
        "AS issued, SUM(CASE WHEN x.kind = 'REVERSAL' OR (x.kind = 'ADJUST' AND NOT x.positive) "
        "THEN -x.amount ELSE 0 END) AS reversed, "
        "SUM(CASE WHEN x.kind IN ('SPEND','RETURN') THEN -x.amount ELSE 0 END) AS redeemed, "
        "SUM(CASE WHEN x.kind = 'EXPIRE' THEN -x.amount ELSE 0 END) AS expired, "
        f"SUM(x.amount) AS total FROM ({source}) x GROUP BY 1",
        [*b_params, *s_params],
    )
    by = {int(r["b"]): r for r in rows}
    totals = list(itertools.accumulate(int(by[i]["total"]) if i in by else 0 for i in range(n + 1)))

    def of(i: int, name: str) -> int:
        return int(by[i][name] or 0) if i in by else 0

    out = [
        Points(of(i, "issued"), of(i, "reversed"), of(i, "redeemed"), of(i, "expired"), totals[i])
        for i in range(1, n + 1)
    ]
    whole = Points(
        sum(p.issued for p in out),
        sum(p.reversed for p in out),
        sum(p.redeemed for p in out),
        sum(p.expired for p in out),
        totals[n],
    )
    return [*out, whole]
