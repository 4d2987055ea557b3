# The SQL below is put together from constant fragments only (segment conditions, the
# dialect's JSON and date expressions); every value is a bound parameter.
# ruff: noqa: S608
"""Program metrics aggregated in the database (SQLite and PostgreSQL alike): one query
per figure group, never a loop over rows in Python. Times are the activities'
``occurred_at`` (the ledger's for points, the refund's recording time for refunds), UTC;
ranges are [start, end). Definitions: README, "Program metrics".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise import connections

__all__ = ["Figures", "Segment", "Sql", "figures"]

_ENGAGING = ("REVIEW", "PHOTO_REVIEW", "SOCIAL_SHARE", "REFERRAL")


class Segment(StrEnum):
    ALL = "ALL"
    ENGAGED = "ENGAGED"
    PURCHASE_ONLY = "PURCHASE_ONLY"


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


class Sql:
    """Placeholders and date arithmetic of the connection's dialect."""

    def __init__(self) -> None:
        self.client = connections.get("default")
        self.postgres = self.client.capabilities.dialect == "postgres"
        self.amount = (
            "CAST(a.payload->>'amountCents' AS BIGINT)"
            if self.postgres
            else "CAST(json_extract(a.payload, '$.amountCents') AS INTEGER)"
        )

    def within_days(self, later: str, earlier: str, days: int) -> str:
        if self.postgres:
            return f"{later} <= {earlier} + INTERVAL '{days} days'"
        return f"julianday({later}) <= julianday({earlier}) + {days}"

    def param(self, value: Any) -> Any:
        return value.isoformat(" ") if isinstance(value, datetime) and not self.postgres else value

    async def rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        if self.postgres:
            parts = sql.split("?")
            last = len(parts) - 1
            sql = "".join(p + (f"${i + 1}" if i < last else "") for i, p in enumerate(parts))
        found: list[dict[str, Any]] = await self.client.execute_query_dict(
            sql, [self.param(p) for p in params]
        )
        return found

    async def one(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        """The one row of an aggregate, NULL sums as 0."""
        (row,) = await self.rows(sql, params)
        return {k: (v or 0) for k, v in row.items()}


def _segment(column: str, segment: Segment) -> tuple[str, list[Any]]:
    """A condition on a member id column, and its parameters (``end`` bound later)."""
    if segment is Segment.ALL:
        return "", []
    engaged = (
        "SELECT member_id FROM activities WHERE kind IN ('REVIEW','PHOTO_REVIEW',"
        "'SOCIAL_SHARE','REFERRAL') AND occurred_at < ? "
        "UNION SELECT member_id FROM redemptions WHERE created_at < ? "
        "UNION SELECT member_id FROM discount_codes WHERE created_at < ?"
    )
    if segment is Segment.ENGAGED:
        return f" AND {column} IN ({engaged})", ["end", "end", "end"]
    return f" AND {column} NOT IN ({engaged})", ["end", "end", "end"]


async def figures(start: datetime, end: datetime, segment: Segment = Segment.ALL) -> Figures:
    """Every figure of [start, end) for a segment of members."""
    sql = Sql()
    before = start - (end - start)
    year = end - timedelta(days=365)

    def bind(params: list[Any], names: list[Any]) -> list[Any]:
        return [*params, *[end if n == "end" else n for n in names]]

    m_cond, m_names = _segment("m.id", segment)
    a_cond, a_names = _segment("a.member_id", segment)
    e_cond, e_names = _segment("e.member_id", segment)
    purchases = f"a.kind = 'PURCHASE'{a_cond}"

    members = await sql.one(
        f"SELECT COUNT(*) AS n FROM members m WHERE m.created_at >= ? AND m.created_at < ?{m_cond}",
        bind([start, end], m_names),
    )
    activity = await sql.one(
        f"SELECT COUNT(DISTINCT a.member_id) AS active FROM activities a "
        f"WHERE a.occurred_at >= ? AND a.occurred_at < ?{a_cond}",
        bind([start, end], a_names),
    )
    orders = await sql.one(
        f"SELECT COUNT(*) AS orders, SUM({sql.amount}) AS cents, "
        f"COUNT(DISTINCT a.member_id) AS buyers FROM activities a "
        f"WHERE {purchases} AND a.occurred_at >= ? AND a.occurred_at < ?",
        [*bind([], a_names), start, end],
    )
    repeat = await sql.one(
        f"SELECT COUNT(*) AS n FROM (SELECT a.member_id FROM activities a WHERE {purchases} "
        f"AND a.occurred_at >= ? AND a.occurred_at < ? GROUP BY a.member_id "
        f"HAVING COUNT(*) >= 2) AS r",
        [*bind([], a_names), start, end],
    )
    refunds = await sql.one(
        f"SELECT SUM(r.amount_cents) AS cents FROM refunds r JOIN activities a "
        f"ON a.id = r.purchase_id WHERE r.created_at >= ? AND r.created_at < ?{a_cond}",
        bind([start, end], a_names),
    )
    retention = await sql.one(
        f"SELECT COUNT(DISTINCT a.member_id) AS previous, COUNT(DISTINCT CASE WHEN EXISTS "
        f"(SELECT 1 FROM activities b WHERE b.kind = 'PURCHASE' AND b.member_id = a.member_id "
        f"AND b.occurred_at >= ? AND b.occurred_at < ?) THEN a.member_id END) AS retained "
        f"FROM activities a WHERE {purchases} AND a.occurred_at >= ? AND a.occurred_at < ?",
        [start, end, *bind([], a_names), before, start],
    )
    second = await sql.one(
        f"SELECT COUNT(*) AS firsts, SUM(CASE WHEN (SELECT COUNT(*) FROM activities b "
        f"WHERE b.kind = 'PURCHASE' AND b.member_id = f.member_id AND "
        f"{sql.within_days('b.occurred_at', 'f.first', 90)}) >= 2 THEN 1 ELSE 0 END) AS seconds "
        f"FROM (SELECT a.member_id, MIN(a.occurred_at) AS first FROM activities a "
        f"WHERE {purchases} GROUP BY a.member_id) AS f WHERE f.first >= ? AND f.first < ?",
        [*bind([], a_names), start, end],
    )
    clv = await _net(sql, purchases, a_cond, a_names, None, end, bind)
    last_year = await _net(sql, purchases, a_cond, a_names, year, end, bind)
    points = await sql.one(
        "SELECT "
        "SUM(CASE WHEN e.kind IN ('EARN','ADJUST') AND e.amount > 0 AND e.occurred_at >= ? "
        "THEN e.amount ELSE 0 END) AS issued, "
        "SUM(CASE WHEN (e.kind = 'REVERSAL' OR (e.kind = 'ADJUST' AND e.amount < 0)) "
        "AND e.occurred_at >= ? THEN -e.amount ELSE 0 END) AS reversed, "
        "SUM(CASE WHEN e.kind IN ('SPEND','RETURN') AND e.occurred_at >= ? "
        "THEN -e.amount ELSE 0 END) AS redeemed, "
        "SUM(CASE WHEN e.kind = 'EXPIRE' AND e.occurred_at >= ? THEN -e.amount ELSE 0 END) "
        "AS expired, SUM(e.amount) AS outstanding "
        f"FROM ledger_entries e WHERE e.occurred_at < ?{e_cond}",
        bind([start, start, start, start, end], e_names),
    )
    return Figures(
        active_members=int(activity["active"]),
        new_members=int(members["n"]),
        orders=int(orders["orders"]),
        order_cents=int(orders["cents"]),
        refund_cents=int(refunds["cents"]),
        buyers=int(orders["buyers"]),
        repeat_buyers=int(repeat["n"]),
        previous_buyers=int(retention["previous"]),
        retained_buyers=int(retention["retained"]),
        first_buyers=int(second["firsts"]),
        second_within_90=int(second["seconds"]),
        clv_revenue_cents=clv[0],
        clv_buyers=clv[1],
        year_revenue_cents=last_year[0],
        year_buyers=last_year[1],
        points_issued=int(points["issued"]),
        points_reversed=int(points["reversed"]),
        points_redeemed=int(points["redeemed"]),
        points_expired=int(points["expired"]),
        points_outstanding=max(0, int(points["outstanding"])),
    )


async def _net(
    sql: Sql,
    purchases: str,
    a_cond: str,
    a_names: list[Any],
    start: datetime | None,
    end: datetime,
    bind: Any,
) -> tuple[int, int]:
    """(order amounts minus their refunds, buyers) of the orders in [start, end)."""
    since = "" if start is None else " AND a.occurred_at >= ?"
    params = [*bind([], a_names), *([] if start is None else [start]), end]
    orders = await sql.one(
        f"SELECT SUM({sql.amount}) AS cents, COUNT(DISTINCT a.member_id) AS buyers "
        f"FROM activities a WHERE {purchases}{since} AND a.occurred_at < ?",
        params,
    )
    refunds = await sql.one(
        f"SELECT SUM(r.amount_cents) AS cents FROM refunds r JOIN activities a ON "
        f"a.id = r.purchase_id WHERE {purchases}{since} AND a.occurred_at < ? "
        f"AND r.created_at < ?",
        [*params, end],
    )
    return int(orders["cents"]) - int(refunds["cents"]), int(orders["buyers"])
