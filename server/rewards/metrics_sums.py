# The SQL below is put together from constant fragments only (segment conditions, the
# dialect's JSON and date expressions, generated CASE trees and integer literals); every
# value is a bound parameter.
# ruff: noqa: S608
"""The sums behind program metrics, one grouped pass each, for every interval of a range
and the range itself at once. ``edges`` are [start, boundaries inside..., end]; each
function answers a list of n + 1 values for n intervals, the last the whole range's.

Figures that add up over intervals (orders, points) are summed per interval index and
added up for the range; distinct counts (buyers, active members) are counted again over
the whole range in the same statement; running figures at each interval's end
(outstanding points, lifetime value, the last 12 months) are running sums of per-index
rows: a row counts at end ``e`` when its index (``Sql.index``) says it lies before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

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


async def active_members(cond: Conditions, edges: Sequence[datetime]) -> list[int]:
    """Members with any activity, per interval and over the range (distinct each)."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("a.occurred_at", _inner(edges))
    a_cond, a_params = cond.of("a.member_id")
    rows = await sql.rows(
        f"WITH x AS (SELECT DISTINCT {b} AS b, a.member_id AS m FROM activities a "
        f"WHERE a.occurred_at >= ? AND a.occurred_at < ?{a_cond}) "
        "SELECT b, COUNT(*) AS n FROM x GROUP BY b "
        "UNION ALL SELECT -1 AS b, COUNT(DISTINCT m) AS n FROM x",
        [*b_params, edges[0], edges[-1], *a_params],
    )
    found = _per([r for r in rows if int(r["b"]) >= 0], n, "n")
    found[n] = next(int(r["n"]) for r in rows if int(r["b"]) < 0)
    return found


@dataclass(frozen=True, slots=True)
class Orders:
    orders: int
    cents: int
    buyers: int
    repeats: int  # buyers with 2 or more orders


async def orders(cond: Conditions, edges: Sequence[datetime]) -> list[Orders]:
    """Orders in [start, end): per member and interval first, so that buyers and repeat
    buyers of the whole range come from the same rows summed per member."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("a.occurred_at", _inner(edges))
    purchases, p_params = cond.purchases()
    totals = (
        "COUNT(*) AS buyers, SUM(c) AS orders, SUM(cents) AS cents, "
        "SUM(CASE WHEN c >= 2 THEN 1 ELSE 0 END) AS repeats"
    )
    rows = await sql.rows(
        f"WITH x AS (SELECT {b} AS b, a.member_id AS m, COUNT(*) AS c, "
        f"SUM({sql.amount}) AS cents FROM activities a WHERE {purchases} "
        "AND a.occurred_at >= ? AND a.occurred_at < ? GROUP BY 1, 2) "
        f"SELECT b, {totals} FROM x GROUP BY b UNION ALL SELECT -1 AS b, {totals} "
        "FROM (SELECT m, SUM(c) AS c, SUM(cents) AS cents FROM x GROUP BY m) AS w",
        [*b_params, *p_params, edges[0], edges[-1]],
    )
    found = [Orders(0, 0, 0, 0)] * (n + 1)
    for r in rows:
        i = int(r["b"]) if int(r["b"]) >= 0 else n
        found[i] = Orders(
            int(r["orders"] or 0), int(r["cents"] or 0), int(r["buyers"]), int(r["repeats"] or 0)
        )
    return found


async def refunds(cond: Conditions, edges: Sequence[datetime]) -> list[int]:
    """Refunds recorded in each interval, of the segment's orders."""
    sql, n = cond.sql, len(edges) - 1
    b, b_params = sql.index("r.created_at", _inner(edges))
    a_cond, a_params = cond.of("a.member_id")
    rows = await sql.rows(
        f"SELECT {b} AS b, SUM(r.amount_cents) AS cents FROM refunds r JOIN activities a "
        f"ON a.id = r.purchase_id WHERE r.created_at >= ? AND r.created_at < ?{a_cond} "
        "GROUP BY 1",
        [*b_params, edges[0], edges[-1], *a_params],
    )
    return _per(rows, n, "cents")


def _periods(edges: Sequence[datetime]) -> list[tuple[datetime, datetime, datetime]]:
    """(the equally long period before, start, end) of each interval and of the range."""
    spans = [*itertools.pairwise(edges), (edges[0], edges[-1])]
    return [(a - (b - a), a, b) for a, b in spans]


async def retention(cond: Conditions, edges: Sequence[datetime]) -> list[tuple[int, int]]:
    """(buyers of the period before, of them buyers again in it) per interval and range.

    The periods before overlap the intervals and each other, so the orders are cut at
    every boundary of either; which pieces make up which period is a small table of
    integers, joined on equality."""
    sql = cond.sql
    periods = _periods(edges)
    cuts = sorted({*edges, *(lo for lo, _, _ in periods)})
    before, during = [], []
    for s, (lo_cut, hi_cut) in enumerate(itertools.pairwise(cuts), start=1):
        for i, (lo, mid, hi) in enumerate(periods):
            if lo <= lo_cut and hi_cut <= mid:
                before.append(f"({s}, {i})")
            elif mid <= lo_cut and hi_cut <= hi:
                during.append(f"({s}, {i})")
    piece, piece_params = sql.index("a.occurred_at", cuts)
    purchases, p_params = cond.purchases()
    rows = await sql.rows(
        f"WITH x AS (SELECT DISTINCT {piece} AS s, a.member_id AS m FROM activities a "
        f"WHERE {purchases} AND a.occurred_at >= ? AND a.occurred_at < ?), "
        f"pb(s, i) AS (VALUES {', '.join(before)}), "
        f"pd(s, i) AS (VALUES {', '.join(during)}), "
        "b AS (SELECT DISTINCT pb.i AS i, x.m AS m FROM x JOIN pb ON pb.s = x.s), "
        "d AS (SELECT DISTINCT pd.i AS i, x.m AS m FROM x JOIN pd ON pd.s = x.s) "
        "SELECT b.i AS i, COUNT(*) AS previous, COUNT(d.m) AS retained FROM b "
        "LEFT JOIN d ON d.i = b.i AND d.m = b.m GROUP BY b.i",
        [*piece_params, *p_params, cuts[0], cuts[-1]],
    )
    found = [(0, 0)] * len(periods)
    for r in rows:
        found[int(r["i"])] = (int(r["previous"]), int(r["retained"]))
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
    b, b_params = sql.index("e.occurred_at", edges)  # 0: before start; i + 1: interval i
    e_cond, e_params = cond.of("e.member_id")
    rows = await sql.rows(
        f"SELECT {b} AS b, "
        "SUM(CASE WHEN e.kind IN ('EARN','ADJUST') AND e.amount > 0 THEN e.amount ELSE 0 END) "
        "AS issued, SUM(CASE WHEN e.kind = 'REVERSAL' OR (e.kind = 'ADJUST' AND e.amount < 0) "
        "THEN -e.amount ELSE 0 END) AS reversed, "
        "SUM(CASE WHEN e.kind IN ('SPEND','RETURN') THEN -e.amount ELSE 0 END) AS redeemed, "
        "SUM(CASE WHEN e.kind = 'EXPIRE' THEN -e.amount ELSE 0 END) AS expired, "
        f"SUM(e.amount) AS total FROM ledger_entries e WHERE e.occurred_at < ?{e_cond} "
        "GROUP BY 1",
        [*b_params, edges[-1], *e_params],
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
