# The SQL below is put together from constant fragments and generated placeholders only;
# every value is a bound parameter.
# ruff: noqa: S608
"""The breakdowns of program metrics, summed by the database: points issued by kind,
members per tier, the most redeemed prizes, referral conversion, and retention by
cohort of joining. Definitions: README, "Program metrics"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.rewards import metrics_sources as sources
from server.rewards.metrics_sql import Sql, tuned
from server.rewards.tiers import ROLLING_DAYS, Tier

__all__ = [
    "Cohort",
    "PrizeCount",
    "Referrals",
    "cohorts",
    "points_by_kind",
    "referrals",
    "tier_counts",
    "top_prizes",
]


async def points_by_kind(start: datetime, end: datetime) -> dict[str, int]:
    """Points issued in [start, end) by what earned them: an activity's kind, BONUS
    (badges, tiers, contests, referral rewards without an activity) or ADJUSTMENT."""
    async with tuned() as sql:
        source, s_params = sources.ledger(sql, end, [start], source=True)
        rows = await sql.rows(
            "SELECT CASE WHEN x.kind = 'ADJUST' THEN 'ADJUSTMENT' "
            "WHEN x.source = '' THEN 'BONUS' ELSE x.source END AS kind, SUM(x.amount) AS points "
            f"FROM ({source}) x WHERE x.kind IN ('EARN','ADJUST') AND x.positive "
            "AND x.at >= ? GROUP BY 1",
            [*s_params, start],
        )
    return {str(r["kind"]): int(r["points"]) for r in rows}


async def tier_counts(ladder: Sequence[Tier], end: datetime) -> dict[str, int]:
    """Members (joined before ``end``) per tier at ``end``, by their qualifying points of
    the rolling window before it (the ladder's thresholds; lowest first)."""
    if not ladder:
        return {}
    cases = " ".join("WHEN COALESCE(q.points, 0) >= ? THEN ?" for _ in ladder)
    params: list[Any] = []
    for tier in reversed(ladder):
        params += [tier.threshold, tier.name]
    window, w_params = sources.member_points(end - timedelta(days=ROLLING_DAYS), end)
    async with tuned() as sql:
        rows = await sql.rows(
            f"SELECT CASE {cases} ELSE ? END AS tier, COUNT(*) AS members FROM members m "
            "LEFT JOIN (SELECT w.member_id AS member_id, SUM(w.points) AS points "
            f"FROM ({window}) w GROUP BY w.member_id) q ON q.member_id = m.id "
            "WHERE m.created_at < ? GROUP BY 1",
            [*params, ladder[0].name, *w_params, end],
        )
    found = {str(r["tier"]): int(r["members"]) for r in rows}
    return {t.name: found.get(t.name, 0) for t in ladder}


@dataclass(frozen=True, slots=True)
class PrizeCount:
    name: str
    redemptions: int
    points: int


async def top_prizes(start: datetime, end: datetime, first: int = 5) -> list[PrizeCount]:
    """The prizes redeemed most in [start, end) (cancelled redemptions not counted)."""
    sql = Sql()
    rows = await sql.rows(
        "SELECT p.name AS name, COUNT(*) AS n, SUM(r.cost) AS points FROM redemptions r "
        "JOIN prizes p ON p.id = r.prize_id WHERE r.status <> 'CANCELLED' "
        "AND r.created_at >= ? AND r.created_at < ? GROUP BY p.id, p.name "
        "ORDER BY n DESC, points DESC, p.name LIMIT ?",
        [start, end, first],
    )
    return [PrizeCount(str(r["name"]), int(r["n"]), int(r["points"])) for r in rows]


@dataclass(frozen=True, slots=True)
class Referrals:
    made: int  # referrals recorded in the range
    converted: int  # of those, paid: the new member's first order was kept

    @property
    def rate(self) -> float:
        return self.converted / self.made if self.made else 0.0


async def referrals(start: datetime, end: datetime) -> Referrals:
    sql = Sql()
    row = await sql.one(
        "SELECT COUNT(*) AS made, SUM(CASE WHEN a.status = 'APPROVED' THEN 1 ELSE 0 END) "
        "AS converted FROM activities a WHERE a.kind = 'REFERRAL' "
        "AND a.occurred_at >= ? AND a.occurred_at < ?",
        [start, end],
    )
    return Referrals(int(row["made"]), int(row["converted"]))


@dataclass(frozen=True, slots=True)
class Cohort:
    start: datetime
    members: int
    retained: list[float]  # [k]: share who bought in the k-th interval after joining


def _bucket(column: str, edges: Sequence[datetime]) -> tuple[str, list[Any]]:
    """A CASE giving the index of the interval [edges[i], edges[i+1]) a time falls in."""
    whens = " ".join(f"WHEN {column} < ? THEN {i}" for i in range(len(edges) - 1))
    return f"CASE WHEN {column} < ? THEN NULL {whens} ELSE NULL END", [edges[0], *edges[1:]]


async def cohorts(edges: Sequence[datetime]) -> list[Cohort]:
    """Members by the interval they joined in, and who of them bought in each later one."""
    sql = Sql()
    joined, joined_params = _bucket("m.created_at", edges)
    bought, bought_params = _bucket("a.occurred_at", edges)
    sizes = await sql.rows(
        f"SELECT {joined} AS c, COUNT(*) AS n FROM members m GROUP BY 1", joined_params
    )
    buying = await sql.rows(
        f"SELECT c, b, COUNT(DISTINCT id) AS n FROM (SELECT m.id AS id, {joined} AS c, "
        f"{bought} AS b FROM members m JOIN activities a ON a.member_id = m.id "
        "AND a.kind = 'PURCHASE') AS x WHERE c IS NOT NULL AND b IS NOT NULL AND b >= c "
        "GROUP BY c, b",
        [*joined_params, *bought_params],
    )
    size = {int(r["c"]): int(r["n"]) for r in sizes if r["c"] is not None}
    counts = {(int(r["c"]), int(r["b"])): int(r["n"]) for r in buying}
    out = []
    for i in range(len(edges) - 1):
        n = size.get(i, 0)
        later = range(i, len(edges) - 1)
        out.append(Cohort(edges[i], n, [counts.get((i, b), 0) / n if n else 0.0 for b in later]))
    return out
